// A handler worker process a test started (the TypeScript SDK's or the Python CLI's): its output is kept for the
// failure message, and stop() waits for it to exit.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export class HandlerWorker {
  readonly output: string[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill(signal);
    await exited;
  }
}
