// API memory under big jobs (issue 21), run by hand: `node dev/run.mjs bench/memory-figures.ts`. Submits 500 command
// jobs with ≈ 480 KB inputs, polls each once, then makes 8 parallel `list?limit=100` of them, and prints the API
// process's resident memory after each step (and the list replies' sizes).
import { setTimeout as delay } from 'node:timers/promises';
import { rssMb } from './proc.js';
import { BenchStack } from './stack.js';

const jobCount = 500;
// 15 arguments of 32,000 characters (the most one may have): ≈ 480 KB of input; `hello` echoes them (64 KiB kept).
const input = { command: 'hello', args: Array.from({ length: 15 }, (_, i) => String(i % 10).repeat(32_000)) };

const stack = await BenchStack.start({ workerQueues: { normal: 10 } });
const api = stack.apis[0]!;
const rss = (): number => Math.round(rssMb(api.pid) ?? Number.NaN);
try {
  const run = `mem-${Date.now()}`;
  const ids = Array.from({ length: jobCount }, (_, i) => `${run}-${i}`);
  console.log(`API RSS at start: ${rss()} MB`);
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(
      ids
        .slice(i, i + 10)
        .map((jobId) => stack.gateway.request('POST', '/api/v1/jobs', { type: 'command', input, jobId })),
    );
  }
  console.log(`API RSS after ${jobCount} submits: ${rss()} MB`);
  // Until each has finished, so that every poll reads a finished job (input and result).
  for (;;) {
    const { body } = await stack.gateway.request<{ queues: { queuedJobs: number; runningJobs: number }[] }>(
      'GET',
      '/api/v1/queues',
    );
    if (body.queues.every((queue) => queue.queuedJobs + queue.runningJobs === 0)) break;
    await delay(1000);
  }
  let peak = 0;
  for (let i = 0; i < ids.length; i += 10) {
    await Promise.all(ids.slice(i, i + 10).map((jobId) => stack.gateway.getJob(jobId)));
    peak = Math.max(peak, rss());
  }
  await delay(2000);
  console.log(`API RSS after polling each once: ${rss()} MB (peak sampled ${peak} MB)`);
  const listPaths = ['/api/v1/jobs?limit=100', '/api/v1/jobs?limit=100&include=input,result'];
  for (const path of listPaths) {
    let listPeak = 0;
    const sampler = setInterval(() => (listPeak = Math.max(listPeak, rss())), 50);
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => stack.gateway.request<{ jobs: unknown[] }>('GET', path)),
    );
    clearInterval(sampler);
    const sizes = replies.map(
      (reply) =>
        `${reply.status} ${reply.body?.jobs?.length ?? '?'} jobs ${(JSON.stringify(reply.body).length / 1e6).toFixed(1)} MB`,
    );
    console.log(`8 parallel GET ${path}: ${sizes[0]}; API RSS peak ${listPeak} MB, after ${rss()} MB`);
  }
} finally {
  await stack.teardown();
}
