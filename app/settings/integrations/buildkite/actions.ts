"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { requireAdmin } from "@/lib/auth/membership";
import { parseBuildkiteToken } from "@/lib/buildkite/token-input";
import { connectBuildkite, defaultConnectDependencies } from "@/lib/integrations/buildkite/connect";
import { toFormState, UNEXPECTED_FAILURE, type ConnectFormState } from "@/lib/integrations/buildkite/form-state";
import { log } from "@/lib/log";

const buildkiteOrgSlugSchema = z
  .string()
  .trim()
  .max(100)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "Choose one of the organisations listed.")
  .optional()
  .or(z.literal("").transform(() => undefined));

/** Connect Buildkite from the Integrations page. A public POST endpoint like every server action: it checks the
 *  caller itself, before anything else. */
export async function connectBuildkiteAction(_previous: ConnectFormState, formData: FormData): Promise<ConnectFormState> {
  const caller = await requireAdmin();
  if (!caller.ok) return { status: "refused", message: caller.message };

  const token = parseBuildkiteToken(formData.get("token"));
  if (!token.ok) return { status: "invalid", field: "token", message: token.message };
  const rawSlug = formData.get("buildkiteOrg");
  const slug = buildkiteOrgSlugSchema.safeParse(typeof rawSlug === "string" ? rawSlug : undefined);
  if (!slug.success) return { status: "invalid", field: "buildkiteOrg", message: "Choose one of the organisations listed." };

  try {
    const result = await connectBuildkite(
      {
        organizationId: caller.membership.organizationId,
        actor: { userId: caller.membership.userId, email: caller.membership.email },
        token: token.token,
        buildkiteOrgSlug: slug.data,
      },
      defaultConnectDependencies(),
    );
    if (result.kind === "connected") revalidatePath("/settings/integrations");
    return toFormState(result);
  } catch (error) {
    // The log line carries the error's name and code only: a message could hold what was sent.
    log.error("buildkite.connect.unexpected", { organizationId: caller.membership.organizationId }, error);
    return UNEXPECTED_FAILURE;
  }
}
