import { describe, expect, it } from "vitest";
import { compareScopes, newTokenUrl, REQUIRED_SCOPES } from "@/lib/buildkite/scopes";

const NINE = [
  "read_builds",
  "read_build_logs",
  "read_artifacts",
  "read_job_env",
  "read_pipelines",
  "read_suites",
  "read_teams",
  "read_organizations",
  "read_user",
];

describe("REQUIRED_SCOPES", () => {
  it("lists the nine scopes in the documented order, each with a purpose", () => {
    expect(REQUIRED_SCOPES.map((entry) => entry.scope)).toEqual(NINE);
    for (const entry of REQUIRED_SCOPES) expect(entry.purpose.length).toBeGreaterThan(10);
    expect(REQUIRED_SCOPES.find((entry) => entry.scope === "read_suites")?.purpose).toMatch(/flaky/i);
  });
});

describe("compareScopes", () => {
  it("finds nothing missing or extra for exactly the nine, in any order", () => {
    expect(compareScopes([...NINE].reverse())).toEqual({ missing: [], extra: [], writeScopes: [] });
  });

  it("lists missing scopes in the required order", () => {
    const granted = NINE.filter((scope) => scope !== "read_suites" && scope !== "read_job_env");
    expect(compareScopes(granted).missing).toEqual(["read_job_env", "read_suites"]);
  });

  it("reports everything missing for an empty grant", () => {
    expect(compareScopes([]).missing).toEqual(NINE);
  });

  it("sorts extra scopes, drops duplicates and picks out the mutating ones", () => {
    const result = compareScopes([...NINE, "write_pipelines", "read_agents", "write_builds", "write_builds", "graphql", "delete_packages"]);
    expect(result.missing).toEqual([]);
    expect(result.extra).toEqual(["delete_packages", "graphql", "read_agents", "write_builds", "write_pipelines"]);
    expect(result.writeScopes).toEqual(["delete_packages", "graphql", "write_builds", "write_pipelines"]);
  });

  it("does not count a read-only extra scope as a write scope", () => {
    expect(compareScopes([...NINE, "read_agents", "read_clusters"])).toEqual({
      missing: [],
      extra: ["read_agents", "read_clusters"],
      writeScopes: [],
    });
  });
});

describe("newTokenUrl", () => {
  it("pre-fills Buildkite's token page with the description and all nine scopes, in order", () => {
    expect(newTokenUrl()).toBe(
      "https://buildkite.com/user/api-access-tokens/new?description=Gitar%20Integration" +
        NINE.map((scope) => `&scopes%5B%5D=${scope}`).join(""),
    );
  });

  it("parses back to the same scopes", () => {
    const url = new URL(newTokenUrl());
    expect(url.origin).toBe("https://buildkite.com");
    expect(url.searchParams.get("description")).toBe("Gitar Integration");
    expect(url.searchParams.getAll("scopes[]")).toEqual(NINE);
  });
});
