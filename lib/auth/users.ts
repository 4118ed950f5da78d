import "server-only";

import { getDb } from "@/lib/db/client";
import { normaliseEmail } from "./email";
import { verifyPassword } from "./password";

export type SignedInUser = { id: string; email: string; name: string };

/** Demo sign-in: the user with this email and password, or null. */
export async function findUserByPassword(email: string, password: string): Promise<SignedInUser | null> {
  const user = await getDb().user.findUnique({
    where: { email: normaliseEmail(email) },
    select: { id: true, email: true, name: true, passwordHash: true },
  });
  // Hash anyway when the user is unknown, so response time does not reveal which emails exist.
  const hash = user?.passwordHash ?? "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const valid = await verifyPassword(password, hash);
  return user && user.passwordHash && valid ? { id: user.id, email: user.email, name: user.name } : null;
}

/** Identity-provider sign-in: only people who already belong to an organisation here may enter. */
export async function findMemberByEmail(email: string): Promise<SignedInUser | null> {
  const user = await getDb().user.findFirst({
    where: { email: normaliseEmail(email), memberships: { some: {} } },
    select: { id: true, email: true, name: true },
  });
  return user;
}
