// Big work taken one piece per turn of the event loop, so that the I/O of other requests is served between pieces.

/**
 * Hands out turns of the event loop one at a time: each `next()` resolves in a turn of its own, after the I/O that
 * turn polled. Work that would hold the loop for milliseconds (a half-megabyte body parsed, checked, hashed and
 * encoded) waits for one, so N such pieces arriving together take N turns, with `/healthz` and small requests
 * answered between them, not one stretch of N pieces (issue 21). An idle queue costs nothing.
 */
export class LoopTurns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // An immediate set while immediates run waits for the next turn's check phase, after that turn's I/O poll.
    setImmediate(() => {
      this.scheduled = false;
      this.waiting.shift()?.();
      if (this.waiting.length > 0) this.schedule();
    });
  }
}

/** A payload, body or answer this big is big work: it waits for a turn of `bigWorkTurns`. */
const bigWorkBytes = 64 * 1024;

/**
 * The turns of this process's big work: a big body's parse and checks, a big answer's decoding from Temporal, a big
 * state's JSON. One queue for all of them, so that one turn runs one piece, whichever kind.
 */
const bigWorkTurns = new LoopTurns();

/** Work of `bytes` (a body, a payload, a state's JSON) waits for a turn of its own when it is big; small work goes on. */
export function turnForWork(bytes: number): Promise<void> {
  return bytes > bigWorkBytes ? bigWorkTurns.next() : Promise.resolve();
}
