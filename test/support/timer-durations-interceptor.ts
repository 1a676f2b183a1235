// Bundled into the workflows for the replay test only: reports the duration of every timer the workflow code starts,
// since Temporal's replay compares a timer's command but not its duration.
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface TimerDurationSinks extends Sinks {
  timers: { started(durationMs: number): void };
}

const { timers } = proxySinks<TimerDurationSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      async startTimer(input, next) {
        timers.started(input.durationMs);
        return next(input);
      },
    },
  ],
});
