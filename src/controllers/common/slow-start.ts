/** @module controller.slowStartBatch: creations in growing batches, so a failing create fails once, not `count` times. */

/** controller.SlowStartInitialBatchSize. */
export const slowStartInitialBatchSize = 1;

/**
 * Runs `count` calls of fn (given the call's index) in parallel batches of 1, 2, 4, …
 * (from initialBatchSize), stopping after the first batch with a failure (quota,
 * admission). Returns the successes and that batch's first error; later calls are skipped.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: (i: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let successes = 0;
  let next = 0;
  for (let size = Math.min(count, initialBatchSize); size > 0; size = Math.min(2 * size, count - next)) {
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn(next++)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += size - failed.length;
    if (failed.length) return { successes, error: failed[0].reason };
  }
  return { successes };
}
