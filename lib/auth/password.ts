import "server-only";

import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

// Node's scrypt. N=2^15 keeps sign-in quick on small machines while staying above OWASP's minimum; the parameters
// are stored in each hash ("scrypt$N$r$p$salt$key") so they can be raised later without invalidating old hashes.
const COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const scryptOptions = (cost: number, blockSize: number, parallelism: number): ScryptOptions => ({
  N: cost,
  r: blockSize,
  p: parallelism,
  maxmem: 256 * cost * blockSize,
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
