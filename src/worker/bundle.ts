// Builds the workflow bundle into the file named by the first argument, with the failure converter that encodes
// failures when `--encode-failures` follows (run by the worker in a child process, so webpack and its memory never
// live in the worker).
import { rename, writeFile } from 'node:fs/promises';
import { bundleJobWorkflows } from './workers.js';

const target = process.argv[2];
if (!target) throw new Error('usage: bundle.ts <output file> [--encode-failures]');
const { code } = await bundleJobWorkflows({ encodeFailures: process.argv[3] === '--encode-failures' });
await writeFile(`${target}.tmp`, code);
await rename(`${target}.tmp`, target);
