import type {
  ActivitySlotInfo,
  CustomSlotSupplier,
  SlotMarkUsedContext,
  SlotPermit,
  SlotReleaseContext,
  SlotReserveContext,
} from '@temporalio/worker';

/** A slot's permit says which worker (task queue) holds it, so releases can be counted per worker. */
interface QueuePermit extends SlotPermit {
  readonly taskQueue: string;
}

interface Waiter {
  readonly taskQueue: string;
  readonly grant: (permit: QueuePermit) => void;
}

/**
 * The attempts one priority runs at once, shared by that priority's workers of every job type: a process serving ten
 * types needs the slots of its work, not ten times them. Temporal reserves a slot before each poll, and an idle
 * type's poll holds its reservation for up to a minute, so a pool of reservations alone would let idle types starve
 * a busy one. So a reservation is granted while running attempts and open reservations together stay under the
 * capacity, and also to a worker with no reservation open while fewer than `capacity` attempts run: every type can
 * always poll. Polls open when the last slot fills may each still bring one attempt, so at the busiest instant at most
 * capacity + types − 1 attempts run, and no poll opens again until fewer than `capacity` do.
 */
export class PrioritySlotPool implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  private running = 0;
  /** Reservations granted and neither used nor released, by task queue. */
  private readonly open = new Map<string, number>();
  private openTotal = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly capacity: number) {}

  /** Attempts running now: for metrics and tests. */
  get runningAttempts(): number {
    return this.running;
  }

  private mayGrant(taskQueue: string): boolean {
    if (this.running + this.openTotal < this.capacity) return true;
    return this.running < this.capacity && (this.open.get(taskQueue) ?? 0) === 0;
  }

  private grant(taskQueue: string): QueuePermit {
    this.open.set(taskQueue, (this.open.get(taskQueue) ?? 0) + 1);
    this.openTotal++;
    return { taskQueue };
  }

  private close(taskQueue: string): void {
    this.open.set(taskQueue, (this.open.get(taskQueue) ?? 1) - 1);
    this.openTotal--;
  }

  async reserveSlot(ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.mayGrant(ctx.taskQueue)) return this.grant(ctx.taskQueue);
    return new Promise<QueuePermit>((resolve, reject) => {
      const waiter: Waiter = {
        taskQueue: ctx.taskQueue,
        grant: (permit) => {
          abortSignal.removeEventListener('abort', abort);
          resolve(permit);
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
      this.waiting.push(waiter);
      abortSignal.addEventListener('abort', abort, { once: true });
    });
  }

  tryReserveSlot(ctx: SlotReserveContext): SlotPermit | null {
    return this.mayGrant(ctx.taskQueue) ? this.grant(ctx.taskQueue) : null;
  }

  markSlotUsed(ctx: SlotMarkUsedContext<ActivitySlotInfo>): void {
    this.close((ctx.permit as QueuePermit).taskQueue);
    this.running++;
  }

  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    // A poll that timed out releases a reservation it never used.
    if (ctx.slotInfo) this.running--;
    else this.close((ctx.permit as QueuePermit).taskQueue);
    this.wake();
  }

  /** Grants waiting reservations in order, as far as the rules allow (each grant changes what the next may get). */
  private wake(): void {
    for (let index = 0; index < this.waiting.length;) {
      const waiter = this.waiting[index]!;
      if (!this.mayGrant(waiter.taskQueue)) {
        index++;
        continue;
      }
      this.waiting.splice(index, 1);
      // Counted here, before the next waiter is looked at.
      waiter.grant(this.grant(waiter.taskQueue));
    }
  }
}
