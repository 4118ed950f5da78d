import { openApiDocument } from "@/lib/api/openapi";
import { unsupported } from "@/lib/api/route";

// The OpenAPI document: public, like the API's shape (no organisation's data is in it).
export function GET() {
  return Response.json(openApiDocument(), { headers: { "cache-control": "no-store" } });
}
export const POST = unsupported(["GET"]);
export const PUT = unsupported(["GET"]);
export const PATCH = unsupported(["GET"]);
export const DELETE = unsupported(["GET"]);
