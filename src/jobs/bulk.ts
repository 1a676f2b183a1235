// Acting on many jobs at once (bulk cancel and retry): a bounded fan-out, each job's outcome its own.

/** How many jobs of a bulk request are acted on at once: a request of 100 ids takes turns rather than 100 calls at once. */
export const bulkConcurrency = 8;

/**
 * `act` on each item, at most `concurrency` at once; the results in the items' order. `act` answers for its item
 * alone (a refusal is its result), so one failure never stops the others.
 */
export async function actOnEach<T, R>(
  items: readonly T[],
  act: (item: T) => Promise<R>,
  concurrency = bulkConcurrency,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) results[index] = await act(items[index]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
