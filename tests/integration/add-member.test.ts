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

  it("never adds a person to another organisation whose name only makes the same slug", async () => {
    const suffix = randomUUID().slice(0, 8);
    const first = await addMember(db, { organizationName: `Acme Corp ${suffix}`, email: `ada.${suffix}@acme.test`, name: "Ada", role: "admin" });
    const similar = `ACME corp! ${suffix}`;
    expect(slugFor(similar)).toBe(slugFor(`Acme Corp ${suffix}`));

    await expect(addMember(db, { organizationName: similar, email: `wile.${suffix}@coyote.test`, name: "Wile", role: "admin" })).rejects.toThrow(
      /“Acme Corp .*” already exists/,
    );

    expect(await db.membership.count({ where: { organizationId: first.organizationId } })).toBe(1);
    expect(await db.user.count({ where: { email: `wile.${suffix}@coyote.test` } })).toBe(0);
  });

  it("never matches a demo organisation of the same name: a real one takes the slug, the demo one moves aside", async () => {
    const organizationName = `Umbrella ${randomUUID().slice(0, 8)}`;
    const slug = slugFor(organizationName);
    const demo = await db.organization.create({ data: { name: organizationName, slug, demo: true } });

    const result = await addMember(db, { organizationName, email: `alice.${randomUUID().slice(0, 8)}@umbrella.test`, name: "Alice", role: "admin" });
    expect(result).toMatchObject({ createdOrganization: true, movedDemoOrganization: { slug: `${slug}-demo` } });
    expect(result.organizationId).not.toBe(demo.id);
    expect(await db.organization.findUniqueOrThrow({ where: { id: result.organizationId } })).toMatchObject({ slug, demo: false });
    expect(await db.organization.findUniqueOrThrow({ where: { id: demo.id } })).toMatchObject({ slug: `${slug}-demo`, demo: true });
    expect(await db.membership.count({ where: { organizationId: demo.id } })).toBe(0);

    // Once more, under the demo organisation's new slug's name: still never the demo one.
    const again = await addMember(db, { organizationName: `${organizationName} demo`, email: `bob.${randomUUID().slice(0, 8)}@umbrella.test`, name: "Bob", role: "member" });
    expect(again.organizationId).not.toBe(demo.id);
    expect(await db.membership.count({ where: { organizationId: demo.id } })).toBe(0);
    expect((await db.organization.findUniqueOrThrow({ where: { id: demo.id } })).slug).toBe(`${slug}-demo-demo`);
  });

  it("refuses a person with a password (a demo account, whose password is published)", async () => {
    const email = `demo.${randomUUID().slice(0, 8)}@acme.test`;
    await db.user.create({ data: { email, name: "Demo", passwordHash: "scrypt$131072$8$1$x$y" } });
    await expect(addMember(db, { organizationName: `Initech ${randomUUID().slice(0, 8)}`, email, name: "Demo", role: "admin" })).rejects.toThrow(
      /demo account/,
    );
    expect(await db.membership.count({ where: { user: { email } } })).toBe(0);
  });

  it("turns names into slugs a URL can hold", () => {
    expect(slugFor("  Ácme Corp, Ltd.  ")).toBe("acme-corp-ltd");
    expect(slugFor("***")).toBe("organization");
  });
});
