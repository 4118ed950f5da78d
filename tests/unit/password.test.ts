import { describe, expect, it, vi } from "vitest";
import { scryptSync } from "node:crypto";
import { hashPassword, needsRehash, UNUSABLE_HASH, verifyPassword } from "@/lib/auth/password";

// Each hash takes OWASP's minimum work (N=2^17): about a quarter of a second, several on a busy machine.
vi.setConfig({ testTimeout: 60_000 });

const PASSWORD = "correct horse battery staple";

/** The stored form: scrypt$N$r$p$salt$key. */
function partsOf(stored: string) {
  const [scheme, cost, blockSize, parallelism, salt, key, ...rest] = stored.split("$");
  return { scheme, cost, blockSize, parallelism, salt: salt ?? "", key: key ?? "", rest };
}

function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, "base64");
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString("base64");
}

describe("hashPassword / verifyPassword", () => {
  it("stores scrypt with its parameters, a 16-byte salt and a 32-byte key, and verifies the same password", async () => {
    const stored = await hashPassword(PASSWORD);

    const parts = partsOf(stored);
    // OWASP's minimum for scrypt: N=2^17, r=8, p=1.
    expect(parts).toMatchObject({ scheme: "scrypt", cost: "131072", blockSize: "8", parallelism: "1", rest: [] });
    expect(Buffer.from(parts.salt, "base64")).toHaveLength(16);
    expect(Buffer.from(parts.key, "base64")).toHaveLength(32);
    expect(stored).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, stored)).toBe(true);
  });

  it("rejects a wrong password, including ones that differ only in case or a trailing space", async () => {
    const stored = await hashPassword(PASSWORD);
    expect(await verifyPassword("correct horse battery stapler", stored)).toBe(false);
    expect(await verifyPassword("Correct horse battery staple", stored)).toBe(false);
    expect(await verifyPassword(`${PASSWORD} `, stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("round-trips non-ASCII passwords", async () => {
    const password = "pässwörd-密码-🔑";
    const stored = await hashPassword(password);
    expect(await verifyPassword(password, stored)).toBe(true);
    expect(await verifyPassword("passwörd-密码-🔑", stored)).toBe(false);
  });

  it("salts each hash: the same password twice gives different salts and keys, both verifying", async () => {
    const first = await hashPassword(PASSWORD);
    const second = await hashPassword(PASSWORD);
    expect(first).not.toBe(second);
    expect(partsOf(first).salt).not.toBe(partsOf(second).salt);
    expect(partsOf(first).key).not.toBe(partsOf(second).key);
    expect(await verifyPassword(PASSWORD, first)).toBe(true);
    expect(await verifyPassword(PASSWORD, second)).toBe(true);
  });

  it("rejects a hash whose key or salt was altered", async () => {
    const stored = await hashPassword(PASSWORD);
    const { cost, blockSize, parallelism, salt, key } = partsOf(stored);
    expect(await verifyPassword(PASSWORD, ["scrypt", cost, blockSize, parallelism, salt, flipFirstByte(key)].join("$"))).toBe(false);
    expect(await verifyPassword(PASSWORD, ["scrypt", cost, blockSize, parallelism, flipFirstByte(salt), key].join("$"))).toBe(false);
  });

  describe("a malformed stored hash is false, not an error", () => {
    it.each([
      { label: "empty", stored: () => "" },
      { label: "not a hash", stored: () => "garbage" },
      { label: "a bcrypt hash", stored: () => "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234" },
      { label: "another scheme", stored: (valid: string) => valid.replace(/^scrypt\$/, "argon2$") },
      { label: "missing its key", stored: (valid: string) => valid.split("$").slice(0, 5).join("$") },
      { label: "an empty key", stored: (valid: string) => `${valid.split("$").slice(0, 5).join("$")}$` },
      { label: "an empty salt", stored: (valid: string) => valid.split("$").map((part, index) => (index === 4 ? "" : part)).join("$") },
      { label: "only the scheme", stored: () => "scrypt" },
    ])("$label", async ({ stored }) => {
      const valid = await hashPassword(PASSWORD);
      expect(await verifyPassword(PASSWORD, stored(valid))).toBe(false);
    });

    // Each of these once verified or threw: a stored hash that is not exactly well formed must never be trusted.
    const withPart = (valid: string, index: number, value: string) =>
      valid
        .split("$")
        .map((part, position) => (position === index ? value : part))
        .join("$");

    it("a key that decodes to zero bytes ('====') must not verify every password", async () => {
      const stored = withPart(await hashPassword(PASSWORD), 5, "====");
      expect(await verifyPassword("any password at all", stored)).toBe(false);
    });

    it("a non-numeric cost must give false, not throw", async () => {
      const stored = withPart(await hashPassword(PASSWORD), 1, "abc");
      await expect(verifyPassword(PASSWORD, stored)).resolves.toBe(false);
    });

    it("a cost scrypt refuses (not a power of two) must give false, not throw", async () => {
      const stored = withPart(await hashPassword(PASSWORD), 1, "1000");
      await expect(verifyPassword(PASSWORD, stored)).resolves.toBe(false);
    });

    it("extra '$' segments after the key must make the hash malformed", async () => {
      const stored = `${await hashPassword(PASSWORD)}$extra`;
      expect(await verifyPassword(PASSWORD, stored)).toBe(false);
    });
  });
  describe("hashes made with older parameters", () => {
    /** A hash as the previous version stored it (N=2^15), or with any parameters a test names. */
    function legacyHash(password: string, cost = 2 ** 15, blockSize = 8, parallelism = 1): string {
      const salt = Buffer.from("0123456789abcdef");
      const key = scryptSync(password, salt, 32, { N: cost, r: blockSize, p: parallelism, maxmem: 256 * cost * blockSize });
      return ["scrypt", cost, blockSize, parallelism, salt.toString("base64"), key.toString("base64")].join("$");
    }

    it("still verify, and are marked for rehashing", async () => {
      const old = legacyHash(PASSWORD);
      expect(await verifyPassword(PASSWORD, old)).toBe(true);
      expect(await verifyPassword("wrong", old)).toBe(false);
      expect(needsRehash(old)).toBe(true);
      expect(needsRehash(legacyHash(PASSWORD, 2 ** 17, 4))).toBe(true);
    });

    it("today's hashes need no rehash; malformed ones are never rehashed (they never verify)", async () => {
      expect(needsRehash(await hashPassword(PASSWORD))).toBe(false);
      expect(needsRehash("garbage")).toBe(false);
      expect(needsRehash("")).toBe(false);
    });

    it("a stored hash that would need more than 1 GiB of memory is refused, not allocated", async () => {
      const huge = (await hashPassword(PASSWORD)).replace(/^scrypt\$131072\$8\$/, "scrypt$1048576$16$");
      await expect(verifyPassword(PASSWORD, huge)).resolves.toBe(false);
    });
  });

  it("UNUSABLE_HASH (verified against when no user matches) costs what a real hash does and matches nothing", async () => {
    expect(partsOf(UNUSABLE_HASH)).toMatchObject({ scheme: "scrypt", cost: "131072", blockSize: "8", parallelism: "1" });
    expect(await verifyPassword("", UNUSABLE_HASH)).toBe(false);
    expect(await verifyPassword(PASSWORD, UNUSABLE_HASH)).toBe(false);
  });
});
