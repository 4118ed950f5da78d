/**
 * What a Buildkite organisation slug looks like: lowercase letters, digits and dashes (Buildkite makes them from the
 * name). The page, the API and the use cases all check a chosen organisation against it, so text of any other shape
 * — a token pasted into the wrong field, markup — is refused before it reaches Buildkite's URL or a message.
 */
export const BUILDKITE_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;

export const isBuildkiteSlug = (value: string): boolean => BUILDKITE_SLUG_PATTERN.test(value);
