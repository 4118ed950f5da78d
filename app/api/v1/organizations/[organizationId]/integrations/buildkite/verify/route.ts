import { unsupported } from "@/lib/api/route";

export { verifyConnection as POST } from "@/lib/api/buildkite-endpoints";
export const GET = unsupported(["POST"]);
export const PUT = unsupported(["POST"]);
export const PATCH = unsupported(["POST"]);
export const DELETE = unsupported(["POST"]);
