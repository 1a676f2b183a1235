// A GET asked at a steady pace from a thread of its own: the bench's main thread, busy sending megabyte bodies and
// parsing the answers, lags by tens of ms under `pressure`, and a probe on it would count that lag as the API's.
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';

/** The thread's code, plain JavaScript: it asks `url` every `intervalMs` until told to stop, then posts its times. */
const probeSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, get } = require('node:http');
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const samples = [];
const startedAt = [];
const statuses = [];
let stopping = false;
parentPort.once('message', () => { stopping = true; });
const once = () => new Promise((resolve) => {
  const started = performance.now();
  const at = Date.now();
  get(workerData.url, { agent }, (res) => {
    res.resume();
    res.on('end', () => {
      samples.push(performance.now() - started);
      startedAt.push(at);
      statuses.push(res.statusCode);
      resolve();
    });
  }).on('error', () => { statuses.push(0); resolve(); });
});
(async () => {
  while (!stopping) {
    await once();
    await new Promise((resolve) => setTimeout(resolve, workerData.intervalMs));
  }
  agent.destroy();
  parentPort.postMessage({ samples, startedAt, statuses });
})();
`;

export interface ProbeResult {
  /** Each answer's time, ms. */
  readonly samplesMs: number[];
  /** When each answered request was sent, ms since the epoch. */
  readonly startedAtMs: number[];
  /** Each answer's status (0: no answer). */
  readonly statuses: number[];
}

/** Starts asking `url`; `stop` ends the probe after the answer in flight and gives every time it measured. */
export function probeInThread(url: string, intervalMs: number): { stop: () => Promise<ProbeResult> } {
  const thread = new Worker(probeSource, { eval: true, workerData: { url, intervalMs } });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    thread.once('message', (message: { samples: number[]; startedAt: number[]; statuses: number[] }) =>
      resolve({ samplesMs: message.samples, startedAtMs: message.startedAt, statuses: message.statuses }),
    );
    thread.once('error', reject);
  });
  return {
    stop: async () => {
      thread.postMessage('stop');
      const measured = await result;
      await thread.terminate();
      return measured;
    },
  };
}

/**
 * An HTTP server that answers every request at once, in a process of its own: probed beside the API, it is the floor
 * the machine's load leaves to any process (waiting for a core), which the API's own work adds to.
 */
export async function startIdleServer(): Promise<{ url: string; stop: () => void }> {
  const server = spawn(
    process.execPath,
    [
      '-e',
      "require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port); });",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve, reject) => {
    server.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    server.once('exit', (code) => reject(new Error(`the idle server exited with code ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => server.kill() };
}
