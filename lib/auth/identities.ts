import "server-only";

import type { Database } from "@/lib/db/client";
import { Prisma } from "@/lib/generated/prisma/client";
import { normaliseEmail } from "./email";
import type { IdentityStore } from "./provider-sign-in";

/** The user_identities table behind provider-sign-in.ts. */
export function prismaIdentityStore(db: Database): IdentityStore {
  return {
    async findBoundUser(providerKey, providerAccountId) {
      const identity = await db.userIdentity.findUnique({
        where: { provider_providerAccountId: { provider: providerKey, providerAccountId } },
        select: { userId: true, user: { select: { memberships: { take: 1, select: { id: true } } } } },
      });
      return identity ? { userId: identity.userId, isMember: identity.user.memberships.length > 0 } : null;
    },
    async findUserByEmail(email, providerKey) {
      const user = await db.user.findUnique({
        where: { email: normaliseEmail(email) },
        select: {
          id: true,
          memberships: { take: 1, select: { id: true } },
          identities: { where: { provider: providerKey }, select: { providerAccountId: true } },
        },
      });
      if (!user) return null;
      return { userId: user.id, isMember: user.memberships.length > 0, boundAccountId: user.identities[0]?.providerAccountId ?? null };
    },
    async bind({ userId, providerKey, providerAccountId, email }) {
      try {
        await db.userIdentity.create({ data: { userId, provider: providerKey, providerAccountId, email: normaliseEmail(email) } });
        return "bound";
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") return "conflict";
        throw error;
      }
    },
  };
}
