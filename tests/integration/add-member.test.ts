import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { addMember, slugFor } from "@/lib/organizations/add-member";
import { connectTestDb } from "../support/db";

const db = connectTestDb();
afterAll(() => db.$disconnect());

describe("addMember", () => {
  it("creates the organisation and the person the first time, and changes only the role after", async () => {
    const organizationName = `Initech ${randomUUID().slice(0, 8)}`;
    const email = `Peter.${randomUUID().slice(0, 8)}@Initech.test`;

    const first = await addMember(db, { organizationName, email, name: "Peter Gibbons", role: "admin" });
    expect(first).toMatchObject({ createdOrganization: true, createdUser: true });

    const again = await addMember(db, { organizationName, email: email.toUpperCase(), name: "Ignored", role: "member" });
    expect(again).toEqual({ ...first, createdOrganization: false, createdUser: false });

    const memberships = await db.membership.findMany({
      where: { userId: first.userId },
      select: { role: true, organization: { select: { name: true, slug: true } }, user: { select: { email: true, name: true } } },
    });
    expect(memberships).toEqual([
      {
        role: "member",
        organization: { name: organizationName, slug: slugFor(organizationName) },
        user: { email: email.toLowerCase(), name: "Peter Gibbons" },
      },
    ]);
  });

  it("turns names into slugs a URL can hold", () => {
    expect(slugFor("  Ácme Corp, Ltd.  ")).toBe("acme-corp-ltd");
    expect(slugFor("***")).toBe("organization");
  });
});
