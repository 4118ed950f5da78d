import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * What an API key looks like: `gitar_ak_` + 32 random base62 characters + a 6-character base62 CRC-32 of them.
 * The prefix lets secret scanners (GitHub's and others) recognise a leaked key; the checksum lets them, and us, tell
 * a real key from a typo or a lookalike without a database lookup.
 */

export const API_KEY_PREFIX = "gitar_ak_";
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);

export type NewApiKey = { key: string; displayPrefix: string; keyHash: string };

export function generateApiKey(): NewApiKey {
  let random = "";
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  while (random.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(RANDOM_LENGTH)) {
      if (byte < 248 && random.length < RANDOM_LENGTH) random += ALPHABET[byte % 62];
    }
  }
  const key = `${API_KEY_PREFIX}${random}${checksum(random)}`;
  return { key, displayPrefix: displayPrefixOf(key), keyHash: hashApiKey(key) };
}

/** The key's recognisable start, shown in lists and the audit log: never enough to use it. */
export function displayPrefixOf(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}

/** Keys are 190 random bits: a plain sha256 is enough to store them (no slow hash needed, unlike passwords). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Has the shape and a valid checksum: worth a database lookup. */
export function isWellFormedApiKey(candidate: string): boolean {
  if (!KEY_PATTERN.test(candidate)) return false;
  const body = candidate.slice(API_KEY_PREFIX.length);
  return checksum(body.slice(0, RANDOM_LENGTH)) === body.slice(RANDOM_LENGTH);
}

function checksum(text: string): string {
  let value = crc32(text);
  let encoded = "";
  for (let index = 0; index < CHECKSUM_LENGTH; index += 1) {
    encoded = ALPHABET[value % 62] + encoded;
    value = Math.floor(value / 62);
  }
  return encoded;
}
