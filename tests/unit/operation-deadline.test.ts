import { expect, it } from "vitest";
import { startDeadline } from "@/lib/integrations/buildkite/deadline";

it("keeps the last fifth back: forward steps stop at 80%, what follows may use the rest", () => {
  let now = 1_000;
  const deadline = startDeadline(25_000, () => now);
  expect(deadline.seconds).toBe(25);
  expect(deadline.remainingMs()).toBe(20_000);
  expect(deadline.passed()).toBe(false);

  now += 19_999;
  expect(deadline.passed()).toBe(false);
  expect(deadline.remainingMs()).toBe(1);

  now += 1;
  expect(deadline.passed()).toBe(true);
  expect(deadline.remainingMs()).toBe(0);
  expect(deadline.reserveSignal().aborted).toBe(false);
});

it("aborts its signal in real time", async () => {
  const deadline = startDeadline(100);
  expect(deadline.signal.aborted).toBe(false);
  await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve));
  expect(deadline.passed()).toBe(true);
});
