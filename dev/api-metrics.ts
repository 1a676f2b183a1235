// Figures read from the API's own /metrics text, for the tests and the bench.

/** The API's reads of Temporal so far, by kind (durable_jobs_temporal_reads_total's `call` label). */
export function temporalReadsByCall(exposition: string): Record<string, number> {
  const reads: Record<string, number> = {};
  for (const [, call = '', n] of exposition.matchAll(/^durable_jobs_temporal_reads_total\{call="(\w+)"\} (\d+)$/gm))
    reads[call] = Number(n);
  return reads;
}
