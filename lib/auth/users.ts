import "server-only";

import { getDb, type Database } from "@/lib/db/client";
import { log } from "@/lib/log";
import { normaliseEmail } from "./email";
import { hashPassword, needsRehash, UNUSABLE_HASH, verifyPassword } from "./password";

export type SignedInUser = { id: string; email: string; name: string };

/**
 * Demo sign-in: the user with this email and password, or null. A hash made with older scrypt parameters is
 * replaced by one with today's while the password is at hand (only if nobody changed it meanwhile).
 */
export async function findUserByPassword(email: string, password: string, db: Database = getDb()): Promise<SignedInUser | null> {
  const user = await db.user.findUnique({
    where: { email: normaliseEmail(email) },
    select: { id: true, email: true, name: true, passwordHash: true },
  });
  // Hash anyway when the user is unknown, so response time does not reveal which emails exist.
  const valid = await verifyPassword(password, user?.passwordHash ?? UNUSABLE_HASH);
  if (!user?.passwordHash || !valid) return null;
  if (needsRehash(user.passwordHash)) {
    try {
      const passwordHash = await hashPassword(password);
      await db.user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash } });
    } catch (error) {
      // The sign-in stands; the next one tries again.
      log.warn("auth.password.rehash_failed", { userId: user.id }, error);
    }
  }
  return { id: user.id, email: user.email, name: user.name };
}
