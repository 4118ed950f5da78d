// `npm run members:add -- --organization "Acme Corp" --email ada@acme.com --name "Ada Lovelace" --role admin`
// Gives a person a role in an organisation (both created when missing), on DATABASE_URL or the embedded database.
// Only real organisations: demo mode's sample organisations are never matched or joined (lib/organizations/add-member.ts).
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError, getConfig } from "../lib/config";
import { createDb } from "../lib/db/client";
import { startEmbeddedPostgres } from "../lib/db/embedded-postgres";
import { migrate } from "../lib/db/migrate";
import { addMember } from "../lib/organizations/add-member";
import { lockDataDir } from "../lib/runtime/instance-lock";

const argumentsSchema = z.object({
  organization: z.string().trim().min(1, "--organization is required (the organisation's name)"),
  email: z.email("--email must be an email address"),
  name: z.string().trim().min(1, "--name is required (the person's name)"),
  role: z.enum(["admin", "member"], { message: "--role must be admin or member" }).default("member"),
});

async function main() {
  const { values } = parseArgs({
    options: {
      organization: { type: "string" },
      email: { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
    },
  });
  const parsed = argumentsSchema.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join("\n"));
  const input = parsed.data;

  const config = getConfig();
  const unlock = config.databaseUrl ? undefined : await lockDataDir(config.dataDir);
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir });
  const databaseUrl = config.databaseUrl ?? embedded!.url;
  const db = createDb(databaseUrl, 1);
  try {
    await migrate(databaseUrl);
    const result = await addMember(db, {
      organizationName: input.organization,
      email: input.email,
      name: input.name,
      role: input.role,
    });
    console.log(
      `${input.email} is now ${input.role === "admin" ? "an admin" : "a member"} of ${input.organization}` +
        `${result.createdOrganization ? " (organisation created)" : ""}${result.createdUser ? " (user created)" : ""}.`,
    );
    if (result.movedDemoOrganization) {
      console.log(`  A demo organisation had its slug; it now has the slug ${result.movedDemoOrganization.slug}.`);
    }
  } finally {
    await db.$disconnect();
    await embedded?.stop();
    await unlock?.();
  }
}

main().catch((error: unknown) => {
  console.error(`✖ ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
