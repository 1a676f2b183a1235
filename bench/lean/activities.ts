// The lean job's one activity: sleeps as the service's `sleep` job type does, and says so.
import { Context } from '@temporalio/activity';

export function createLeanActivities() {
  return {
    async leanSleep(seconds: number): Promise<string> {
      if (seconds > 0) await Context.current().sleep(seconds * 1000);
      return `slept ${seconds} s`;
    },
  };
}
