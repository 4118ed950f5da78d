import { unsupported } from "@/lib/api/route";

// A problem's `type` (/api/v1/problems/<code>) leads to where the codes are explained: the API reference's Errors
// section (for admins; anyone else is asked to sign in first).
export async function GET(_request: Request, context: { params: Promise<{ code: string }> }) {
  const { code } = await context.params;
  if (!/^[a-z_]{1,64}$/.test(code)) return unsupported(null)();
  return new Response(null, { status: 303, headers: { location: "/settings/api-reference#api-errors", "cache-control": "no-store" } });
}
export const POST = unsupported(["GET"]);
export const PUT = unsupported(["GET"]);
export const PATCH = unsupported(["GET"]);
export const DELETE = unsupported(["GET"]);
