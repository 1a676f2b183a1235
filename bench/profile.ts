// Where a CPU profile's time went: self time by package (or project file) and by function.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
}

/** The package a script belongs to, `src/<file>` for the project's own code, or the V8 pseudo-frame. */
function ownerOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  // No script: V8's pseudo-frames ("(garbage collector)", "(program)") or a native function.
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith('node:')) return `node:${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  const inProject = /\/(src|bench|test)\/(.+)$/.exec(url);
  return inProject ? `${inProject[1]}/${inProject[2]}` : url;
}

function top(entries: Map<string, number>, count: number, total: number): string[] {
  return [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)} %  ${name}`);
}

/** A text summary of the profile: the busy time (idle excluded) split by owner and by function. */
export async function summarizeProfile(path: string): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    all += hits;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    busy += hits;
    const owner = ownerOf(node.callFrame);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + hits);
    const name = `${node.callFrame.functionName || '(anonymous)'}  ${owner}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
  }
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return [
    `API CPU profile ${path}: ${seconds.toFixed(1)} s profiled, busy ${((busy / Math.max(1, all)) * 100).toFixed(0)} % of samples`,
    'self time of the busy samples, by owner:',
    ...top(byOwner, 15, busy),
    'by function:',
    ...top(byFunction, 20, busy),
  ].join('\n');
}
