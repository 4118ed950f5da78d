import { unsupported } from "@/lib/api/route";

// Any /api/v1 path without an endpoint of its own: a problem+json 404, not Next's HTML page.
const noSuchEndpoint = unsupported(null);
export { noSuchEndpoint as DELETE, noSuchEndpoint as GET, noSuchEndpoint as PATCH, noSuchEndpoint as POST, noSuchEndpoint as PUT };
