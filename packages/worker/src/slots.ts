import type {
  ActivitySlotInfo,
  CustomSlotSupplier,
  SlotMarkUsedContext,
  SlotPermit,
  SlotReleaseContext,
  SlotReserveContext,
} from '@temporalio/worker';

/** Rejects a reservation the SDK no longer needs: the only error a slot supplier may throw. */
class SlotReservationAbortedError extends Error {
  override readonly name = 'AbortError';
}

/**
 * The attempts one priority runs at once, shared by that priority's workers of every job type: a process serving ten
 * types needs the slots of its work, not ten times them. Temporal reserves a slot before each poll, and an idle
 * type's poll holds its reservation for up to a minute; counting reservations would let idle types starve a busy one.
 * So the pool counts attempts running, and grants a poll whenever fewer than `capacity` run: each type's worker keeps
 * one poll open (maxConcurrentActivityTaskPolls 1), and polls that were open when the last slot filled may each still
 * bring one attempt, so at most capacity + types − 1 run at the busiest instant, and none start until below capacity.
 */
export class PrioritySlotPool implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  private running = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly capacity: number) {}

  /** Attempts running now: for metrics and tests. */
  get runningAttempts(): number {
    return this.running;
  }

  async reserveSlot(_ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.running < this.capacity) return {};
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        abortSignal.removeEventListener('abort', abort);
        resolve();
      };
      const abort = (): void => {
        this.waiting.delete(grant);
        reject(new SlotReservationAbortedError('slot reservation aborted'));
      };
      if (abortSignal.aborted) return abort();
      this.waiting.add(grant);
      abortSignal.addEventListener('abort', abort, { once: true });
    });
    return {};
  }

  tryReserveSlot(_ctx: SlotReserveContext): SlotPermit | null {
    return this.running < this.capacity ? {} : null;
  }

  markSlotUsed(_ctx: SlotMarkUsedContext<ActivitySlotInfo>): void {
    this.running++;
  }

  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    // A poll that timed out releases a slot it never used.
    if (!ctx.slotInfo) return;
    this.running--;
    if (this.running >= this.capacity) return;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const grant of waiting) grant();
  }
}
