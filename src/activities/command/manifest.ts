import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { CommandInput } from './input.js';

/**
 * Names no manifest may declare: each lets a value load code into the loader, an interpreter, a shell or a
 * library (`BASH_ENV="$(id)"`, `NODE_OPTIONS=--import=…`, `LUA_INIT=os.execute…`, `GIT_SSH_COMMAND`, an
 * OPENSSL_CONF or HOME whose files run code, an EDITOR or PAGER a tool starts), picks which program or files a
 * script's own lookups use (PATH, CLASSPATH, GEM_*, TZDIR, NLSPATH, HOSTALIASES, proxies), or is the
 * launcher's own (JOBS_*).
 */
const interpreterHook = new RegExp(
  '^(' +
    [
      'LD_.*',
      'BASH_ENV',
      'BASH_FUNC_.*',
      'BASHOPTS',
      'SHELLOPTS',
      'BASH_XTRACEFD',
      'ENV',
      'PS4',
      'IFS',
      'CDPATH',
      'PATH',
      'HOME',
      'NODE_.*',
      'NPM_CONFIG_.*',
      'PYTHON.*',
      'PIP_.*',
      'PERL.*',
      'RUBY.*',
      'GEM_.*',
      'BUNDLE_.*',
      'PHP.*',
      'LUA_.*',
      'JAVA_TOOL_OPTIONS',
      '_JAVA_OPTIONS',
      'JDK_JAVA_OPTIONS',
      'CLASSPATH',
      'GIT_.*',
      'SSH_.*',
      'OPENSSL_.*',
      'GCONV_PATH',
      'LOCPATH',
      'NLSPATH',
      'GLIBC_TUNABLES',
      'MALLOC_.*',
      'TZ.*',
      'HOSTALIASES',
      'RES_OPTIONS',
      'LOCALDOMAIN',
      'EDITOR',
      'VISUAL',
      'PAGER',
      'LESS.*',
      'XDG_.*',
      'TMPDIR',
      '.*_PROXY',
      'JOBS_.*',
    ].join('|') +
    ')$',
  'i',
);

/** `<command>.json` beside the executable: the variables a caller may set. A command without one accepts no env. */
const CommandManifest = z.strictObject({
  description: z.string().max(1000).optional(),
  env: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'is not a variable name')
        .refine((name) => !interpreterHook.test(name), {
          error: (issue) => `${JSON.stringify(issue.input)} lets a value run code in an interpreter or the loader`,
        }),
    )
    .max(100)
    .default([]),
  /** Defaults for jobs of this command, before the job type's (600 s, one attempt); a submit body still wins. */
  timeoutSeconds: z.number().int().min(1).max(604_800).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
export type CommandManifest = z.infer<typeof CommandManifest>;

/** The manifest beside the command's real path; none declares nothing. */
export async function readManifest(
  path: string,
  command: string,
): Promise<{ manifest: CommandManifest } | { problem: string }> {
  let text: string;
  try {
    text = await readFile(`${path}.json`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: { env: [] } };
    return { problem: `the manifest of command "${command}" cannot be read` };
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    return { problem: `the manifest of command "${command}" is not JSON` };
  }
  const parsed = CommandManifest.safeParse(content);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `the manifest of command "${command}" is invalid: ${issue.path.join('.')}: ${issue.message}` };
  }
  return { manifest: parsed.data };
}

/** Why the input's env may not reach a command with this manifest, or undefined when the manifest declares every name. */
export function undeclaredEnvProblem(input: CommandInput, manifest: CommandManifest): string | undefined {
  const undeclared = Object.keys(input.env ?? {}).find((name) => !manifest.env.includes(name));
  if (undeclared === undefined) return undefined;
  const declared = manifest.env.length > 0 ? `it declares ${manifest.env.join(', ')}` : 'it declares none';
  return `env ${JSON.stringify(undeclared)} is not declared in the manifest of command "${input.command}" (${declared})`;
}

/** Why the input's env may not reach the command at `path`, or undefined when its manifest declares every name. */
export async function envProblem(input: CommandInput, path: string): Promise<string | undefined> {
  const read = await readManifest(path, input.command);
  return 'problem' in read ? read.problem : undeclaredEnvProblem(input, read.manifest);
}
