// Whether Temporal answers at all. A server that stalls (a stopped process, a path that drops packets) keeps its
// connections open and fails no call: each waits out its whole deadline, 15 s for a visibility query and more for one
// queued behind others, where a client is owed a 503 within seconds.
import type { Client } from '@temporalio/client';
import { TemporalUnavailableError } from './errors.js';

/** A call still unanswered after this long makes the API ask whether Temporal answers at all. */
export const stallCheckAfterMs = 4000;

/** describeNamespace, which the frontend answers from its cache however busy its stores are, gets this long. */
const probeDeadlineMs = 1500;

export class TemporalReachability {
  private probing: Promise<unknown> | undefined;

  constructor(
    private readonly client: Client,
    private readonly namespace: string,
  ) {}

  /** Resolves with the error of a probe Temporal did not answer, undefined when it answered; one probe at a time. */
  unanswered(): Promise<unknown> {
    this.probing ??= this.client.connection
      .withDeadline(Date.now() + probeDeadlineMs, () =>
        this.client.workflowService.describeNamespace({ namespace: this.namespace }),
      )
      .then(
        () => undefined,
        (err: unknown) => err ?? new Error('Temporal did not answer'),
      )
      .finally(() => {
        this.probing = undefined;
      });
    return this.probing;
  }

  /**
   * Runs `call`, given a signal that aborts it when it has waited `stallCheckAfterMs` and Temporal then answers no
   * probe: it rejects with TemporalUnavailableError at once. A call that is only slow (a visibility query over many
   * jobs on a busy server) goes on to its own deadline.
   */
  async bounded<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const stall = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void this.unanswered().then((err) => {
          if (err === undefined) return;
          reject(new TemporalUnavailableError(err));
          stall.abort();
        });
      }, stallCheckAfterMs);
    });
    try {
      return await Promise.race([call(stall.signal), stalled]);
    } finally {
      clearTimeout(timer);
    }
  }
}
