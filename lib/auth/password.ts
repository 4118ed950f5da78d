import "server-only";

import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

// Node's scrypt with OWASP's minimum parameters (Password Storage Cheat Sheet: N=2^17, r=8, p=1): 128 MiB and about
// a quarter of a second per hash. The parameters are stored in each hash ("scrypt$N$r$p$salt$key"): hashes made with
// older, weaker ones still verify, and are replaced on the next successful sign-in (needsRehash).
const COST = 2 ** 17;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
// scrypt needs about 128·N·r bytes; Node refuses more than `maxmem` (32 MiB by default, too little for N=2^17).
// A stored hash asking for more than this is not one of ours, and is refused rather than allocated.
const MAX_MEMORY = 1024 * 1024 * 1024;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const memoryFor = (cost: number, blockSize: number, parallelism: number) => 128 * blockSize * (cost + parallelism + 2);

const scryptOptions = (cost: number, blockSize: number, parallelism: number): ScryptOptions => ({
  N: cost,
  r: blockSize,
  p: parallelism,
  maxmem: 2 * memoryFor(cost, blockSize, parallelism),
});

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(password, salt, KEY_LENGTH, scryptOptions(COST, BLOCK_SIZE, PARALLELISM));
  return ["scrypt", COST, BLOCK_SIZE, PARALLELISM, salt.toString("base64"), key.toString("base64")].join("$");
}

type StoredHash = { cost: number; blockSize: number; parallelism: number; salt: Buffer; key: Buffer };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const whole = (text: string, max: number) => (/^[1-9]\d{0,9}$/.test(text) && Number(text) <= max ? Number(text) : undefined);

/** Reads a stored hash, or null for anything malformed — never a hash that an empty key or salt could satisfy. */
function parseStoredHash(stored: string): StoredHash | null {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return null;
  const [, costText = "", blockText = "", parallelText = "", saltText = "", keyText = ""] = parts;
  const cost = whole(costText, 2 ** 20);
  const blockSize = whole(blockText, 64);
  const parallelism = whole(parallelText, 16);
  if (!cost || !blockSize || !parallelism || (cost & (cost - 1)) !== 0 || cost < 2) return null;
  if (memoryFor(cost, blockSize, parallelism) > MAX_MEMORY) return null;
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) return null;
  const salt = Buffer.from(saltText, "base64");
  const key = Buffer.from(keyText, "base64");
  if (salt.length < SALT_LENGTH || key.length < KEY_LENGTH) return null;
  return { cost, blockSize, parallelism, salt, key };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStoredHash(stored);
  if (!parsed) return false;
  try {
    const actual = await scrypt(password, parsed.salt, parsed.key.length, scryptOptions(parsed.cost, parsed.blockSize, parsed.parallelism));
    return timingSafeEqual(actual, parsed.key);
  } catch {
    return false;
  }
}

/**
 * Whether a stored hash (one that just verified) was made with weaker parameters than today's: the caller then
 * stores hashPassword(password) in its place, while it still has the password.
 */
export function needsRehash(stored: string): boolean {
  const parsed = parseStoredHash(stored);
  if (!parsed) return false;
  return parsed.cost < COST || parsed.blockSize < BLOCK_SIZE || parsed.parallelism < PARALLELISM;
}

/** A well-formed hash of no password, with today's parameters: verifying against it costs what a real one does. */
export const UNUSABLE_HASH = ["scrypt", COST, BLOCK_SIZE, PARALLELISM, Buffer.alloc(SALT_LENGTH).toString("base64"), Buffer.alloc(KEY_LENGTH).toString("base64")].join("$");
