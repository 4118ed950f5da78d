// A server action is a public POST endpoint: the permission tests capture the exact POST an admin's click makes, and
// send it again with someone else's session.
import { expect, type Browser, type Page, type Request } from "@playwright/test";
import { signIn } from "./app";

export type CapturedPost = { headers: Record<string, string>; body: Buffer };

export async function signedInPage(browser: Browser, email: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email);
  return { context, page };
}

/**
 * The POST an admin's click on the page at `path` makes, captured before it reaches the server. Each in a page of
 * its own: an aborted server action leaves its page in an error state.
 */
export async function captureActionPost(
  browser: Browser,
  path: string,
  click: (page: Page) => Promise<void>,
  open: (page: Page) => Promise<unknown> = (page) => page.goto(path),
): Promise<CapturedPost> {
  const { context, page } = await signedInPage(browser, "admin@acme.test");
  await open(page);
  let captured: Request | undefined;
  await page.route(`**${path}`, async (route) => {
    if (route.request().method() === "POST" && !captured) {
      captured = route.request();
      await route.abort();
    } else {
      await route.continue();
    }
  });
  await click(page);
  await expect.poll(() => captured).toBeDefined();
  const post = { headers: await captured!.allHeaders(), body: captured!.postDataBuffer()! };
  await context.close();
  return post;
}

/** Sends a captured POST to `path` again, with the session cookie of `page`'s context. Returns the response's text. */
export async function replayActionPost(page: Page, path: string, post: CapturedPost, body: Buffer = post.body): Promise<string> {
  const cookie = (await page.context().cookies()).map(({ name, value }) => `${name}=${value}`).join("; ");
  const response = await page.request.post(path, { headers: { ...post.headers, cookie }, data: body });
  return response.text();
}
