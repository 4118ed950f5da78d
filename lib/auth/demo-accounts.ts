// The demo organisations and people of the embedded default (demo mode). Public by design: the sign-in page
// lists them. prisma/seed.ts creates them.
export const DEMO_PASSWORD = "demo";

export const DEMO_ORGANIZATIONS = [
  { slug: "acme", name: "Acme" },
  { slug: "globex", name: "Globex" },
] as const;

export const DEMO_ACCOUNTS = [
  { email: "admin@acme.test", name: "Ada Admin", organization: "acme", role: "admin" },
  { email: "member@acme.test", name: "Max Member", organization: "acme", role: "member" },
  { email: "admin@globex.test", name: "Grace Globex", organization: "globex", role: "admin" },
] as const;

export const demoOrganizationName = (slug: string) =>
  DEMO_ORGANIZATIONS.find((organization) => organization.slug === slug)?.name ?? slug;
