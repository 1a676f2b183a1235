// A GET asked at a steady pace from a thread of its own: the bench's main thread, busy sending megabyte bodies and
// parsing the answers, lags by tens of ms under `pressure`, and a probe on it would count that lag as the API's.
import { Worker } from 'node:worker_threads';

/** The thread's code, plain JavaScript: it asks `url` every `intervalMs` until told to stop, then posts its times. */
const probeSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, get } = require('node:http');
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const samples = [];
const statuses = [];
let stopping = false;
parentPort.once('message', () => { stopping = true; });
const once = () => new Promise((resolve) => {
  const started = performance.now();
  get(workerData.url, { agent }, (res) => {
    res.resume();
    res.on('end', () => { samples.push(performance.now() - started); statuses.push(res.statusCode); resolve(); });
  }).on('error', () => { statuses.push(0); resolve(); });
});
(async () => {
  while (!stopping) {
    await once();
    await new Promise((resolve) => setTimeout(resolve, workerData.intervalMs));
  }
  agent.destroy();
  parentPort.postMessage({ samples, statuses });
})();
`;

export interface ProbeResult {
  /** Each answer's time, ms. */
  readonly samplesMs: number[];
  /** Each answer's status (0: no answer). */
  readonly statuses: number[];
}

/** Starts asking `url`; `stop` ends the probe after the answer in flight and gives every time it measured. */
export function probeInThread(url: string, intervalMs: number): { stop: () => Promise<ProbeResult> } {
  const thread = new Worker(probeSource, { eval: true, workerData: { url, intervalMs } });
  const result = new Promise<ProbeResult>((resolve, reject) => {
    thread.once('message', (message: { samples: number[]; statuses: number[] }) =>
      resolve({ samplesMs: message.samples, statuses: message.statuses }),
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
