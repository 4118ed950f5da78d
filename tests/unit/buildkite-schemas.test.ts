import { describe, expect, it } from "vitest";
import {
  accessTokenResponseSchema,
  organizationListSchema,
  organizationSchema,
  parseBuildkiteDate,
} from "@/lib/buildkite/schemas";

// The example body from Buildkite's docs.
const DOCS_BODY = {
  uuid: "b63254c0-3271-4a98-8270-7cfbd6c2f14e",
  scopes: ["read_builds", "read_pipelines"],
  description: "Gitar Integration",
  created_at: "2025-07-16 06:07:42 UTC",
  expires_at: "2025-07-23 06:07:42 UTC",
  user: { name: "Algernon Moncrieff", email: "algernon.m@example.com" },
};

describe("accessTokenResponseSchema", () => {
  it("parses the documented body with docs-format dates", () => {
    expect(accessTokenResponseSchema.parse(DOCS_BODY)).toEqual({
      uuid: "b63254c0-3271-4a98-8270-7cfbd6c2f14e",
      scopes: ["read_builds", "read_pipelines"],
      description: "Gitar Integration",
      createdAt: new Date("2025-07-16T06:07:42.000Z"),
      expiresAt: new Date("2025-07-23T06:07:42.000Z"),
      owner: { name: "Algernon Moncrieff", email: "algernon.m@example.com" },
    });
  });

  it("parses ISO 8601 dates", () => {
    const parsed = accessTokenResponseSchema.parse({
      ...DOCS_BODY,
      created_at: "2026-05-21T12:00:00.000Z",
      expires_at: "2026-06-21T14:30:00+02:00",
    });
    expect(parsed.createdAt?.toISOString()).toBe("2026-05-21T12:00:00.000Z");
    expect(parsed.expiresAt?.toISOString()).toBe("2026-06-21T12:30:00.000Z");
  });

  it("reads a null expiry as never expiring", () => {
    expect(accessTokenResponseSchema.parse({ ...DOCS_BODY, expires_at: null }).expiresAt).toBeNull();
  });

  it("treats missing optional fields as null", () => {
    expect(accessTokenResponseSchema.parse({ uuid: "u-1", scopes: [] })).toEqual({
      uuid: "u-1",
      scopes: [],
      description: null,
      createdAt: null,
      expiresAt: null,
      owner: null,
    });
  });

  it("accepts a null user and a user with null fields", () => {
    expect(accessTokenResponseSchema.parse({ ...DOCS_BODY, user: null }).owner).toBeNull();
    expect(accessTokenResponseSchema.parse({ ...DOCS_BODY, user: { name: null } }).owner).toEqual({ name: null, email: null });
  });

  it("ignores unknown extra fields", () => {
    const parsed = accessTokenResponseSchema.parse({
      ...DOCS_BODY,
      allowed_ip_addresses: "10.0.0.0/8",
      graphql: false,
      user: { ...DOCS_BODY.user, id: "x", avatar_url: "https://example.test/a.png" },
    });
    expect(parsed.uuid).toBe(DOCS_BODY.uuid);
    expect(parsed).not.toHaveProperty("allowed_ip_addresses");
    expect(parsed.owner).toEqual({ name: "Algernon Moncrieff", email: "algernon.m@example.com" });
  });

  it.each([
    ["uuid missing", { ...DOCS_BODY, uuid: undefined }],
    ["uuid empty", { ...DOCS_BODY, uuid: "" }],
    ["scopes missing", { ...DOCS_BODY, scopes: undefined }],
    ["scopes not a list", { ...DOCS_BODY, scopes: "read_builds" }],
    ["unparsable date", { ...DOCS_BODY, created_at: "last Tuesday" }],
    ["impossible date", { ...DOCS_BODY, expires_at: "2025-02-30 10:00:00 UTC" }],
    ["date without zone", { ...DOCS_BODY, expires_at: "2025-07-23T06:07:42" }],
    ["not an object", ["uuid"]],
  ])("rejects a broken body: %s", (_label, body) => {
    expect(accessTokenResponseSchema.safeParse(body).success).toBe(false);
  });
});

describe("parseBuildkiteDate", () => {
  it("reads both formats to the same instant", () => {
    expect(parseBuildkiteDate("2025-07-16 06:07:42 UTC")?.getTime()).toBe(Date.UTC(2025, 6, 16, 6, 7, 42));
    expect(parseBuildkiteDate("2025-07-16T06:07:42Z")?.getTime()).toBe(Date.UTC(2025, 6, 16, 6, 7, 42));
  });

  it("returns undefined for anything else", () => {
    expect(parseBuildkiteDate("")).toBeUndefined();
    expect(parseBuildkiteDate("2025-07-16")).toBeUndefined();
    expect(parseBuildkiteDate("2025-13-01 00:00:00 UTC")).toBeUndefined();
  });
});

describe("organizationSchema", () => {
  const ORG = {
    id: "0b0f09f2-aa90-46a5-aebb-9922edbfe59e",
    url: "https://api.buildkite.com/v2/organizations/acme-inc",
    web_url: "https://buildkite.com/acme-inc",
    name: "Acme Inc",
    slug: "acme-inc",
    pipelines_url: "https://api.buildkite.com/v2/organizations/acme-inc/pipelines",
  };

  it("keeps slug and name", () => {
    expect(organizationSchema.parse(ORG)).toEqual({ slug: "acme-inc", name: "Acme Inc" });
    expect(organizationSchema.parse({ slug: "a", name: "A" })).toEqual({ slug: "a", name: "A" });
  });

  it("parses a list, including an empty one", () => {
    expect(organizationListSchema.parse([ORG, { slug: "b", name: "B" }])).toEqual([
      { slug: "acme-inc", name: "Acme Inc" },
      { slug: "b", name: "B" },
    ]);
    expect(organizationListSchema.parse([])).toEqual([]);
  });

  it("rejects an organization without slug or name, and a non-list", () => {
    expect(organizationSchema.safeParse({ ...ORG, slug: undefined }).success).toBe(false);
    expect(organizationSchema.safeParse({ ...ORG, name: undefined }).success).toBe(false);
    expect(organizationListSchema.safeParse({ organizations: [ORG] }).success).toBe(false);
  });
});
