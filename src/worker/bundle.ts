// Builds the workflow bundle into the file named by the first argument (run by the worker in a child
// process, so webpack and its memory never live in the worker).
import { rename, writeFile } from 'node:fs/promises';
import { bundleJobWorkflows } from './workers.js';

const target = process.argv[2];
if (!target) throw new Error('usage: bundle.ts <output file>');
const { code } = await bundleJobWorkflows();
await writeFile(`${target}.tmp`, code);
await rename(`${target}.tmp`, target);
