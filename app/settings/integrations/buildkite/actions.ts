"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { adminAction } from "@/lib/actions/admin-action";
import { personActor } from "@/lib/audit/actor";
import { BUILDKITE_SLUG_PATTERN } from "@/lib/buildkite/slug";
import { parseBuildkiteToken } from "@/lib/buildkite/token-input";
import { connectBuildkite } from "@/lib/integrations/buildkite/connect";
import { defaultDependencies } from "@/lib/integrations/buildkite/dependencies";
import { runDiagnostics } from "@/lib/integrations/buildkite/diagnostics";
import { disconnectBuildkite } from "@/lib/integrations/buildkite/disconnect";
import { diagnosticsState, type DiagnosticsFormState } from "@/lib/integrations/buildkite/presentation/diagnostics-view";
import {
  connectState,
  databaseUnavailableState,
  disconnectState,
  rotateState,
  UNEXPECTED_FAILURE,
  verifyState,
  type ConnectFormState,
  type DisconnectFormState,
  type RotateFormState,
  type VerifyFormState,
} from "@/lib/integrations/buildkite/presentation/form-state";
import { reverifyConnection } from "@/lib/integrations/buildkite/reverify";
import { rotateBuildkiteToken } from "@/lib/integrations/buildkite/rotate";

// The Buildkite card's server actions. Each is a public POST endpoint: adminAction checks the caller first.

const INTEGRATIONS = "/settings/integrations";
const refused = (message: string) => ({ status: "refused" as const, message });

const buildkiteOrgSlugSchema = z
  .string()
  .trim()
  .regex(BUILDKITE_SLUG_PATTERN)
  .optional()
  .or(z.literal("").transform(() => undefined));

const checked = (formData: FormData, name: string) => formData.get(name) === "on" || formData.get(name) === "true";

export const connectBuildkiteAction = adminAction<{ token: string; buildkiteOrgSlug?: string }, ConnectFormState>({
  action: "buildkite.connect",
  parse(formData) {
    const token = parseBuildkiteToken(formData.get("token"));
    if (!token.ok) return { ok: false, state: { status: "invalid", field: "token", message: token.message } };
    const rawSlug = formData.get("buildkiteOrg");
    const slug = buildkiteOrgSlugSchema.safeParse(typeof rawSlug === "string" ? rawSlug : undefined);
    if (!slug.success) return { ok: false, state: { status: "invalid", field: "buildkiteOrg", message: "Choose one of the organisations listed." } };
    return { ok: true, input: { token: token.token, buildkiteOrgSlug: slug.data } };
  },
  async run(input, caller) {
    const result = await connectBuildkite(
      { organizationId: caller.organizationId, actor: personActor(caller), token: input.token, buildkiteOrgSlug: input.buildkiteOrgSlug },
      defaultDependencies(),
    );
    if (result.ok) revalidatePath(INTEGRATIONS);
    return connectState(result);
  },
  refused,
  unexpected: UNEXPECTED_FAILURE,
  databaseUnavailable: databaseUnavailableState(),
});

export const rotateBuildkiteAction = adminAction<{ token: string; revokePrevious: boolean }, RotateFormState>({
  action: "buildkite.rotate",
  parse(formData) {
    const token = parseBuildkiteToken(formData.get("token"));
    if (!token.ok) return { ok: false, state: { status: "invalid", field: "token", message: token.message } };
    return { ok: true, input: { token: token.token, revokePrevious: checked(formData, "revokePrevious") } };
  },
  async run(input, caller) {
    const result = await rotateBuildkiteToken(
      { organizationId: caller.organizationId, actor: personActor(caller), token: input.token, revokePrevious: input.revokePrevious },
      defaultDependencies(),
    );
    if (result.ok) revalidatePath(INTEGRATIONS);
    return rotateState(result);
  },
  refused,
  unexpected: UNEXPECTED_FAILURE,
  databaseUnavailable: databaseUnavailableState(),
});

export const disconnectBuildkiteAction = adminAction<{ revokeAtBuildkite: boolean; evenIfRevokeFails: boolean }, DisconnectFormState>({
  action: "buildkite.disconnect",
  parse: (formData) => ({
    ok: true,
    input: { revokeAtBuildkite: checked(formData, "revokeAtBuildkite"), evenIfRevokeFails: checked(formData, "evenIfRevokeFails") },
  }),
  async run(input, caller) {
    const result = await disconnectBuildkite({ organizationId: caller.organizationId, actor: personActor(caller), ...input }, defaultDependencies());
    if (result.ok) revalidatePath(INTEGRATIONS);
    return disconnectState(result);
  },
  refused,
  unexpected: UNEXPECTED_FAILURE,
  databaseUnavailable: databaseUnavailableState(),
});

export const verifyBuildkiteAction = adminAction<null, VerifyFormState>({
  action: "buildkite.verify",
  parse: () => ({ ok: true, input: null }),
  async run(_input, caller) {
    const result = await reverifyConnection({ organizationId: caller.organizationId, actor: personActor(caller) }, defaultDependencies());
    revalidatePath(INTEGRATIONS);
    return verifyState(result);
  },
  refused,
  unexpected: UNEXPECTED_FAILURE,
  databaseUnavailable: databaseUnavailableState(),
});

export const diagnoseBuildkiteAction = adminAction<null, DiagnosticsFormState>({
  action: "buildkite.diagnostics",
  parse: () => ({ ok: true, input: null }),
  async run(_input, caller) {
    return diagnosticsState(await runDiagnostics({ organizationId: caller.organizationId, actor: personActor(caller) }, defaultDependencies()));
  },
  refused,
  unexpected: UNEXPECTED_FAILURE,
  databaseUnavailable: databaseUnavailableState(),
});
