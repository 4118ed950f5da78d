// The Buildkite connection of an organisation: GET status, PUT connect or rotate, DELETE disconnect.
import { unsupported } from "@/lib/api/route";

export { deleteConnection as DELETE, getConnection as GET, putConnection as PUT } from "@/lib/api/buildkite-endpoints";
export const POST = unsupported(["GET", "PUT", "DELETE"]);
export const PATCH = unsupported(["GET", "PUT", "DELETE"]);
