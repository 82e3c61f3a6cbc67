// Runs fn over items with at most `limit` in flight, in item order. Deterministic (no timers, no randomness),
// so it is safe in workflow code. Rejects with the first failure after letting running calls settle.
export async function runBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  async function lane(): Promise<void> {
    while (next < items.length && !firstError) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (error) {
        firstError ??= { error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (firstError) throw firstError.error;
  return results;
}
