import { unsupported } from "@/lib/api/route";

export { listAuditEventsRoute as GET } from "@/lib/api/buildkite-endpoints";
export const POST = unsupported(["GET"]);
export const PUT = unsupported(["GET"]);
export const PATCH = unsupported(["GET"]);
export const DELETE = unsupported(["GET"]);
