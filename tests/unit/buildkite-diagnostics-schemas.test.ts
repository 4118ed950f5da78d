import { describe, expect, it } from "vitest";
import {
  buildListSchema,
  countedListSchema,
  jobEnvSchema,
  jobLogSchema,
  pipelineListSchema,
  userSchema,
} from "@/lib/buildkite/diagnostics-schemas";

// Trimmed from the examples in Buildkite's REST docs (pages/apis/rest_api/builds.md, jobs.md, pipelines.md).
const DOCS_BUILD = {
  id: "f62a1b4d-10f9-4790-bc1c-e2c3a0c80983",
  graphql_id: "QnVpbGQtLS1mYmQ2Zjk3OS0yOTRhLTQ3ZjItOTU0Ni1lNTk0M2VlMTAwNzE=",
  url: "https://api.buildkite.com/v2/organizations/my-great-org/pipelines/my-pipeline/builds/2",
  web_url: "https://buildkite.com/my-great-org/my-pipeline/builds/2",
  number: 2,
  state: "passed",
  cancel_reason: null,
  blocked: false,
  message: "Bumping to version 0.2-beta.6",
  env: {},
  creator: { id: "3d3c3bf0-7d58-4afe-8fe7-b3017d5504de", name: "Keith Pitt", email: "keith@buildkite.com" },
  jobs: [
    { id: "b63254c0-3271-4a98-8270-7cfbd6c2f14e", type: "script", name: "RSpec", state: "passed", exit_status: 0, agent: { id: "0b461f65" } },
    { id: "c1d2e3f4-0000-4000-a000-000000000001", graphql_id: "x", type: "waiter" },
    { id: "ded35de2-7de0-4da8-8daa-b4ce0b7f1064", type: "manual", label: "Deploy", state: "unblocked", web_url: null },
    { id: "b63254c0-3271-4a98-8270-7cfbd6c2f14f", type: "trigger", name: "Deploy to production", async: false, triggered_build: null },
  ],
  created_at: "2015-05-09T21:05:59.874Z",
  scheduled_at: "2015-05-09T21:05:59.874Z",
  finished_at: "2015-05-09T21:08:59.874Z",
  meta_data: {},
  pull_request: {},
  rebuilt_from: null,
  pipeline: {
    id: "849411f9-9e6d-4739-a0d8-e247088e9b52",
    name: "Great Pipeline",
    slug: "great-pipeline",
    repository: "git@github.com:my-great-org/my-pipeline",
    provider: { id: "github", webhook_url: "https://webhook.buildkite.com/deliver/xxx" },
    created_at: "2013-09-03 13:24:38 UTC",
  },
};

describe("buildListSchema", () => {
  it("parses the documented build, every job type included", () => {
    expect(buildListSchema.parse([DOCS_BUILD])).toEqual([
      {
        number: 2,
        state: "passed",
        createdAt: new Date("2015-05-09T21:05:59.874Z"),
        webUrl: "https://buildkite.com/my-great-org/my-pipeline/builds/2",
        pipeline: { slug: "great-pipeline", name: "Great Pipeline" },
        jobs: [
          { id: "b63254c0-3271-4a98-8270-7cfbd6c2f14e", type: "script" },
          { id: "c1d2e3f4-0000-4000-a000-000000000001", type: "waiter" },
          { id: "ded35de2-7de0-4da8-8daa-b4ce0b7f1064", type: "manual" },
          { id: "b63254c0-3271-4a98-8270-7cfbd6c2f14f", type: "trigger" },
        ],
      },
    ]);
  });

  it("reads missing or unreadable dates and URLs as null, and no jobs as none", () => {
    const [build] = buildListSchema.parse([{ ...DOCS_BUILD, jobs: undefined, web_url: undefined, created_at: "last Tuesday" }]);
    expect(build).toMatchObject({ createdAt: null, webUrl: null, jobs: [] });
    expect(buildListSchema.parse([{ ...DOCS_BUILD, created_at: "2015-05-09 21:05:59 UTC" }])[0]?.createdAt).toEqual(new Date("2015-05-09T21:05:59.000Z"));
  });

  it("rejects a build without a number, state, pipeline or job ids", () => {
    for (const broken of [
      { ...DOCS_BUILD, number: "2" },
      { ...DOCS_BUILD, state: undefined },
      { ...DOCS_BUILD, pipeline: null },
      { ...DOCS_BUILD, jobs: [{ type: "script" }] },
    ]) {
      expect(buildListSchema.safeParse([broken]).success).toBe(false);
    }
  });
});

describe("pipelineListSchema", () => {
  it("keeps slug, name and repository, reading a missing or empty repository as null", () => {
    expect(
      pipelineListSchema.parse([
        { slug: "a", name: "A", repository: "git@github.com:o/a.git", provider: {} },
        { slug: "b", name: "B", repository: null },
        { slug: "c", name: "C", repository: "" },
        { slug: "d", name: "D" },
      ]),
    ).toEqual([
      { slug: "a", name: "A", repository: "git@github.com:o/a.git" },
      { slug: "b", name: "B", repository: null },
      { slug: "c", name: "C", repository: null },
      { slug: "d", name: "D", repository: null },
    ]);
  });
});

describe("the small ones", () => {
  it("user, counted lists and the log", () => {
    expect(userSchema.parse({ id: "u", name: "Keith Pitt", email: "keith@buildkite.com", avatar_url: "x" })).toEqual({
      name: "Keith Pitt",
      email: "keith@buildkite.com",
    });
    expect(countedListSchema.parse([{ id: "t" }, { id: "u" }])).toEqual({ count: 2 });
    expect(countedListSchema.safeParse({ items: [] }).success).toBe(false);
    expect(jobLogSchema.parse({ url: "u", content: "This is the job's log output", size: 28, header_times: [1] })).toEqual({ size: 28 });
  });

  it("counts the environment without keeping it, and names no value when it is broken", () => {
    const secret = "sk_live_do_not_echo";
    const parsed = jobEnvSchema.parse({ env: { CI: "true", SECRET_KEY: secret } });
    expect(parsed).toEqual({ variableCount: 2 });
    const broken = jobEnvSchema.safeParse({ env: secret });
    expect(broken.success).toBe(false);
    expect(broken.error?.issues.map((issue) => issue.path)).toEqual([["env"]]);
  });
});
