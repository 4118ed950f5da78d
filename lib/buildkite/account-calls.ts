import "server-only";

import { BuildkiteError, errorForStatus } from "./errors";
import { userSchema, type BuildkiteUser } from "./diagnostics-schemas";
import { nextPage } from "./links";
import {
  accessTokenResponseSchema,
  organizationListSchema,
  organizationSchema,
  type AccessTokenInfo,
  type BuildkiteOrganization,
} from "./schemas";
import { headerValue, parseBody, parseJson, type CallOptions, type Transport } from "./transport";

/** Calls about the token itself and the organisations it reaches. */

const PAGE_SIZE = 100;
const MAX_PAGES = 10;

export async function getAccessToken(transport: Transport, token: string, options?: CallOptions): Promise<AccessTokenInfo> {
  const { body } = await alwaysThere(transport.getJson(token, transport.url(["v2", "access-token"]), options));
  return parseBody(accessTokenResponseSchema, body, "access token");
}

/**
 * Revokes the token at Buildkite (204). Sent once, never retried: had a first attempt worked and its answer been
 * lost, a retry would only see 401. So a 401 here surfaces as "unauthorized" and callers read it as "already revoked".
 */
export async function revokeAccessToken(transport: Transport, token: string, options?: CallOptions): Promise<void> {
  const response = await transport.send("DELETE", token, transport.url(["v2", "access-token"]), options);
  if (response.status === 204) return;
  if (response.status >= 200 && response.status < 300) {
    // Only the documented 204 proves the revoke; a 200 page from something in between does not.
    throw new BuildkiteError("unexpected_response", `Buildkite answered the revoke with ${response.status}, not 204`, {
      status: response.status,
      reason: `status ${response.status}`,
    });
  }
  throw notFoundAsMisconfigured(errorForStatus(response.status, parseJson(response.text), response.rateLimit));
}

export async function listOrganizations(transport: Transport, token: string, options?: CallOptions): Promise<BuildkiteOrganization[]> {
  const organizations: BuildkiteOrganization[] = [];
  let url: URL | undefined = transport.url(["v2", "organizations"], { per_page: PAGE_SIZE });
  // Past MAX_PAGES we stop rather than fail: a thousand organisations is already more than a person picks from.
  for (let page = 0; url && page < MAX_PAGES; page += 1) {
    const { body, headers } = await alwaysThere(transport.getJson(token, url, options));
    organizations.push(...parseBody(organizationListSchema, body, "organization list"));
    url = nextPage(headerValue(headers, "link"), url);
  }
  return organizations;
}

/** One organisation by slug; "not_found" when the token cannot reach it (or it does not exist). */
export async function getOrganization(transport: Transport, token: string, slug: string, options?: CallOptions): Promise<BuildkiteOrganization> {
  const { body } = await transport.getJson(token, transport.url(["v2", "organizations", slug]), options);
  return parseBody(organizationSchema, body, "organization");
}

export async function getUser(transport: Transport, token: string, options?: CallOptions): Promise<BuildkiteUser> {
  const { body } = await alwaysThere(transport.getJson(token, transport.url(["v2", "user"]), options));
  return parseBody(userSchema, body, "user");
}

/** For endpoints that always exist: a 404 there means the API URL is wrong, not that something is out of reach. */
async function alwaysThere<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw error instanceof BuildkiteError ? notFoundAsMisconfigured(error) : error;
  }
}

function notFoundAsMisconfigured(error: BuildkiteError): BuildkiteError {
  if (error.code !== "not_found") return error;
  return new BuildkiteError("unexpected_response", `Buildkite answered with unexpected status ${error.status ?? 404}`, {
    status: error.status,
    reason: `status ${error.status ?? 404}`,
  });
}
