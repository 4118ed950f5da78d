import { z } from "zod";
import { parseBuildkiteDate } from "./schemas";

/**
 * The shapes of the answers behind "Run diagnostics" (one cheap call per scope), from Buildkite's REST docs
 * (pages/apis/rest_api/{user,pipelines,builds,teams,artifacts,jobs}.md and analytics/suites.md). Only what the
 * product uses is read; unknown extra fields are ignored. A job's environment is never parsed beyond counting its
 * variables: it holds customers' secrets.
 */

export type BuildkiteUser = { name: string | null; email: string | null };

export type BuildkitePipeline = { slug: string; name: string; repository: string | null };

export type BuildkitePipelinePage = { pipelines: BuildkitePipeline[]; lastPage: number | null };

export type BuildkiteBuild = {
  number: number;
  state: string;
  createdAt: Date | null;
  webUrl: string | null;
  pipeline: { slug: string; name: string };
  jobs: Array<{ id: string; type: string }>;
};

/** How many items the fetched page held (diagnostics ask for one: it only shows the scope works). */
export type BuildkiteCount = { count: number };

export type BuildkiteJobLog = { size: number | null };

export type BuildkiteJobEnv = { variableCount: number };

const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? null);

// Both date forms Buildkite uses; a date that is present but unreadable counts as absent rather than breaking the list.
const lenientDate = z
  .string()
  .nullish()
  .transform((value) => (value ? (parseBuildkiteDate(value) ?? null) : null));

export const userSchema = z
  .looseObject({ name: optionalText, email: optionalText })
  .transform((user): BuildkiteUser => ({ name: user.name, email: user.email }));

const pipelineSchema = z
  .looseObject({ slug: z.string().min(1), name: z.string().min(1), repository: optionalText })
  .transform((pipeline): BuildkitePipeline => ({
    slug: pipeline.slug,
    name: pipeline.name,
    repository: pipeline.repository === "" ? null : pipeline.repository,
  }));

export const pipelineListSchema = z.array(pipelineSchema);

// Every job type (script, waiter, manual, trigger) has an id and a type; the rest differs by type and is not read.
const jobSchema = z.looseObject({ id: z.string().min(1), type: z.string().min(1) }).transform((job) => ({ id: job.id, type: job.type }));

const buildSchema = z
  .looseObject({
    number: z.number().int().nonnegative(),
    state: z.string().min(1),
    created_at: lenientDate,
    web_url: optionalText,
    pipeline: z.looseObject({ slug: z.string().min(1), name: z.string().min(1) }),
    // Absent only when asked for with exclude_jobs, which we never send.
    jobs: z.array(jobSchema).nullish(),
  })
  .transform(
    (build): BuildkiteBuild => ({
      number: build.number,
      state: build.state,
      createdAt: build.created_at,
      webUrl: build.web_url,
      pipeline: { slug: build.pipeline.slug, name: build.pipeline.name },
      jobs: build.jobs ?? [],
    }),
  );

export const buildListSchema = z.array(buildSchema);

/** Teams, suites, artifacts: a list of objects of which only the number matters here. */
export const countedListSchema = z.array(z.looseObject({})).transform((items): BuildkiteCount => ({ count: items.length }));

export const jobLogSchema = z
  .looseObject({ size: z.number().int().nonnegative().nullish() })
  .transform((log): BuildkiteJobLog => ({ size: log.size ?? null }));

// z.unknown() for the values: they are never inspected, copied or echoed in an error (only key paths could be).
export const jobEnvSchema = z
  .looseObject({ env: z.record(z.string(), z.unknown()) })
  .transform((body): BuildkiteJobEnv => ({ variableCount: Object.keys(body.env).length }));
