import "server-only";

import { gitHubEmailsSchema, type GitHubEmail } from "./verified-email";

const GITHUB_API = "https://api.github.com";
const TIMEOUT_MS = 5_000;

export class GitHubEmailsError extends Error {
  constructor(readonly status: number | "network" | "malformed") {
    super(`GitHub's /user/emails could not be read (${status})`);
    this.name = "GitHubEmailsError";
  }
}

/** `GET /user/emails` with the access token of the sign-in (the provider asks for the `user:email` scope). */
export async function fetchGitHubEmails(accessToken: string): Promise<GitHubEmail[]> {
  let response: Response;
  try {
    response = await fetch(`${GITHUB_API}/user/emails`, {
      headers: {
        Authorization: `Bearer ${accessToken}`,
        Accept: "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "gitar",
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new GitHubEmailsError("network");
  }
  if (!response.ok) throw new GitHubEmailsError(response.status);
  const parsed = gitHubEmailsSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new GitHubEmailsError("malformed");
  return parsed.data;
}
