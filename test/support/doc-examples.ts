// The shell examples of the Markdown docs, as test/docs-examples.test.ts runs them: every ```sh, ```bash,
// ```shell or ```console fence, with the markers written right above it (docs/testing.md, "Shell examples").

/** Fence languages that are shell examples: each one runs, or says why not. */
export const shellLanguages: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console']);

/** A fenced shell example of a Markdown file, with what its markers say. */
export interface ShellExample {
  readonly file: string;
  /** The opening fence's line, counted from 1. */
  readonly line: number;
  readonly language: string;
  /** The block's lines, without the fence's indentation, each ending in a newline. */
  readonly code: string;
  /** `<!-- not run: <why> -->`: the block is skipped, for this reason. */
  readonly notRun?: string;
  /** `<!-- expect: <status> -->`: the HTTP status the block's last curl answers (every earlier one a 2xx). */
  readonly expectStatus?: number;
  /** `<!-- service env: NAME=value … -->`: the variables of the service the block runs against. */
  readonly serviceEnv: Readonly<Record<string, string>>;
}

/** Thrown by `extractShellExamples` when a fence or a marker of a Markdown file cannot be read as a rule says. */
export class DocExampleMarkupError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'DocExampleMarkupError';
  }
}

const openingFence = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
const markerComment = /^\s*<!--(.*)-->\s*$/;
const marker = /^\s*(not run|expect|service env)\s*:\s*(.*?)\s*$/;
/** Lines of an untagged fence that are commands someone would paste: such a fence must say it is shell. */
const commandLine = /^\s*(\$ |curl |npm |npx )/;

/**
 * The shell examples of one Markdown file (`file` only names it in the answer and in errors). Markers are HTML
 * comments on the lines right above the fence (blank lines between are allowed); anything else there ends them.
 */
export function extractShellExamples(markdown: string, file: string): ShellExample[] {
  const lines = markdown.split(/\r?\n/);
  const examples: ShellExample[] = [];
  for (let index = 0; index < lines.length; index++) {
    const opening = openingFence.exec(lines[index]!);
    if (!opening) continue;
    const [, indent = '', fence = '', info = ''] = opening;
    const language = info.toLowerCase();
    const closing = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let end = index + 1;
    while (end < lines.length && !closing.test(lines[end]!)) end++;
    if (end === lines.length) throw new DocExampleMarkupError(file, index + 1, 'a fence that is never closed');
    const body = lines.slice(index + 1, end).map((text) => stripIndent(text, indent.length));
    const markers = markersAbove(lines, index, file);
    const line = index + 1;
    index = end;

    if (!shellLanguages.has(language)) {
      if (markers.size > 0) {
        throw new DocExampleMarkupError(
          file,
          line,
          `a marker above a \`${language || 'untagged'}\` fence, not a shell one`,
        );
      }
      const command = language === '' ? body.find((text) => commandLine.test(text)) : undefined;
      if (command !== undefined) {
        throw new DocExampleMarkupError(
          file,
          line,
          `an untagged fence holds a command (${command.trim()}): tag it \`\`\`sh, and mark it if it cannot run`,
        );
      }
      continue;
    }
    examples.push({
      file,
      line,
      language,
      code: body.map((text) => text + '\n').join(''),
      ...readMarkers(markers, file, line),
    });
  }
  return examples;
}

function stripIndent(text: string, width: number): string {
  let strip = 0;
  while (strip < width && text[strip] === ' ') strip++;
  return text.slice(strip);
}

/** The markers right above the fence on line `index` (0-based), by name. */
function markersAbove(lines: readonly string[], index: number, file: string): Map<string, string> {
  const found = new Map<string, string>();
  for (let above = index - 1; above >= 0; above--) {
    const text = lines[above]!;
    if (text.trim() === '') continue;
    const comment = markerComment.exec(text);
    if (!comment) break;
    const parsed = marker.exec(comment[1]!);
    if (!parsed) {
      throw new DocExampleMarkupError(
        file,
        above + 1,
        `an HTML comment above a fence that is no marker (not run: …, expect: …, service env: …): ${text.trim()}`,
      );
    }
    const [, name = '', value = ''] = parsed;
    if (found.has(name)) throw new DocExampleMarkupError(file, above + 1, `a second \`${name}\` marker`);
    found.set(name, value);
  }
  return found;
}

function readMarkers(
  markers: ReadonlyMap<string, string>,
  file: string,
  line: number,
): Pick<ShellExample, 'notRun' | 'expectStatus' | 'serviceEnv'> {
  const notRun = markers.get('not run');
  if (notRun !== undefined) {
    if (notRun === '') throw new DocExampleMarkupError(file, line, '`not run` without a reason');
    if (markers.size > 1) throw new DocExampleMarkupError(file, line, 'a block not run takes no other marker');
    return { notRun, serviceEnv: {} };
  }
  const expect = markers.get('expect');
  let expectStatus: number | undefined;
  if (expect !== undefined) {
    expectStatus = Number(expect);
    if (!/^[1-5]\d\d$/.test(expect)) {
      throw new DocExampleMarkupError(file, line, `\`expect\` takes one HTTP status, not "${expect}"`);
    }
  }
  const serviceEnv: Record<string, string> = {};
  for (const assignment of (markers.get('service env') ?? '').split(/\s+/).filter(Boolean)) {
    const [, name, value] = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(assignment) ?? [];
    if (name === undefined || value === undefined) {
      throw new DocExampleMarkupError(file, line, `\`service env\` takes NAME=value words, not "${assignment}"`);
    }
    serviceEnv[name] = value;
  }
  return { ...(expectStatus === undefined ? {} : { expectStatus }), serviceEnv };
}

/**
 * Addresses a block names outright (`localhost:3000`, `127.0.0.1:8233`): run by a test, they would reach
 * whatever listens there on the machine. A default of a variable (`${API:-localhost:3000}`) is fine.
 */
export function fixedAddresses(code: string): string[] {
  const withoutDefaults = code.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]*\}/g, '');
  return [...withoutDefaults.matchAll(/(?:\blocalhost|\b127\.0\.0\.1|\b0\.0\.0\.0|\[::1\]):\d+/g)].map(
    ([address]) => address,
  );
}

/**
 * The `jobId`s and `scheduleId`s a block sets itself (`"jobId": "hello-1"`): a person runs every doc against one
 * service, where an id that two docs use for different jobs answers 409 in the second.
 */
export function fixedIds(code: string): string[] {
  return [...code.matchAll(/"(?:jobId|scheduleId)"\s*:\s*"([^"]+)"/g)].map(([, id]) => id!);
}

/** One curl a block ran, as the test's wrapper logged it: the last HTTP status it received (none: no answer). */
export interface CurlCall {
  readonly status: number | undefined;
  readonly args: string;
}

/** Reads the wrapper's log: one line per curl, `<status or none>\t<its arguments>`. */
export function parseCurlLog(log: string): CurlCall[] {
  return log
    .split('\n')
    .filter(Boolean)
    .map((text) => {
      const tab = text.indexOf('\t');
      const status = text.slice(0, tab);
      return { status: /^\d{3}$/.test(status) ? Number(status) : undefined, args: text.slice(tab + 1) };
    });
}

/**
 * What is wrong with the statuses a block's curls received: each must be a 2xx, except that with
 * `expectStatus` the last must be exactly that. Empty when all is well.
 */
export function unexpectedStatuses(calls: readonly CurlCall[], expectStatus?: number): string[] {
  const problems: string[] = [];
  if (expectStatus !== undefined && calls.length === 0)
    problems.push(`expected a curl answering ${expectStatus}, ran none`);
  calls.forEach((call, index) => {
    const expected = expectStatus !== undefined && index === calls.length - 1 ? String(expectStatus) : '2xx';
    const received = call.status === undefined ? 'no answer' : String(call.status);
    const fine =
      expected === '2xx' ? call.status !== undefined && call.status >= 200 && call.status < 300 : received === expected;
    if (!fine) problems.push(`curl ${call.args}: ${received}, expected ${expected}`);
  });
  return problems;
}
