// One priority's attempt slots, shared by the workers of every job type a process serves at that priority
// (docs/worker-protocol.md, "Capacity").
import type {
  ActivitySlotInfo,
  CustomSlotSupplier,
  SlotMarkUsedContext,
  SlotPermit,
  SlotReleaseContext,
  SlotReserveContext,
} from '@temporalio/worker';

/** A permit names its task queue: a queue holds at most one reservation that no attempt uses yet. */
interface QueuePermit extends SlotPermit {
  readonly taskQueue: string;
}

interface Waiter {
  readonly taskQueue: string;
  readonly grant: () => void;
}

/**
 * About `capacity` attempts of a priority at once, whichever types they are: a process serving ten types needs the
 * slots of its work, not ten times them.
 *
 * The SDK (1.24) reserves a slot before each poll, holds it while the poll waits for work (up to a minute), reserves a
 * worker's next one while its poll is still open, and cannot refuse a task a poll brings. Counting reservations as
 * slots makes the cap exact but lets idle types hold them: measured, two types on 2 slots beside an idle third ran one
 * attempt at a time, and the idle type's own job waited past a minute. So a reservation is granted while fewer than
 * `capacity` attempts run, one open at a time per task queue (each type can always poll, and an idle one holds no
 * slot): when the last slot fills, the polls still open may each bring one attempt more, so at the busiest instant
 * at most capacity + types − 1 run, and no poll opens again until fewer than `capacity` do.
 */
export class PrioritySlotPool implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  /** Attempts running now. */
  private running = 0;
  /** The task queues holding a reservation no attempt uses yet. */
  private readonly polling = new Set<string>();
  private readonly waiting: Waiter[] = [];

  constructor(readonly capacity: number) {}

  reserveSlot(ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    return new Promise<SlotPermit>((resolve, reject) => {
      const waiter: Waiter = {
        taskQueue: ctx.taskQueue,
        grant: () => {
          abortSignal.removeEventListener('abort', abort);
          resolve(this.reserve(ctx.taskQueue));
        },
      };
      const abort = (): void => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        // The SDK takes its own abort reason back quietly; any other error it logs as one.
        reject(abortSignal.reason as Error);
      };
      if (abortSignal.aborted) {
        abort();
        return;
      }
      abortSignal.addEventListener('abort', abort, { once: true });
      this.waiting.push(waiter);
      this.wake();
    });
  }

  /** For eager tasks: a slot now, unless a reservation that may have one waits before it. */
  tryReserveSlot(ctx: SlotReserveContext): SlotPermit | null {
    const first = this.waiting.some((waiter) => this.mayReserve(waiter.taskQueue));
    return !first && this.mayReserve(ctx.taskQueue) ? this.reserve(ctx.taskQueue) : null;
  }

  /** A poll brought an attempt: the queue may reserve for its next poll. */
  markSlotUsed(ctx: SlotMarkUsedContext<ActivitySlotInfo>): void {
    this.polling.delete((ctx.permit as QueuePermit).taskQueue);
    this.running++;
    this.wake();
  }

  /** An attempt ended, or a poll ended without a task. */
  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    if (ctx.slotInfo) this.running--;
    else this.polling.delete((ctx.permit as QueuePermit).taskQueue);
    this.wake();
  }

  private mayReserve(taskQueue: string): boolean {
    return this.running < this.capacity && !this.polling.has(taskQueue);
  }

  private reserve(taskQueue: string): QueuePermit {
    this.polling.add(taskQueue);
    return { taskQueue };
  }

  /** Grants waiting reservations in the order asked, as far as the slots and the one-open-poll rule allow. */
  private wake(): void {
    for (let index = 0; index < this.waiting.length && this.running < this.capacity;) {
      const waiter = this.waiting[index]!;
      if (!this.mayReserve(waiter.taskQueue)) {
        index++;
        continue;
      }
      this.waiting.splice(index, 1);
      waiter.grant();
    }
  }
}
