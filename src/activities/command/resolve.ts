import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

/** The command's real path when it is an executable file inside the commands directory, else a reason. */
export async function resolveCommand(
  command: string,
  commandsDir: string,
): Promise<{ path: string } | { problem: string }> {
  const dir = await realpath(commandsDir).catch(() => undefined);
  if (!dir) return { problem: `the commands directory ${commandsDir} does not exist` };
  const path = await realpath(resolve(dir, command)).catch(() => undefined);
  if (!path) return { problem: `command "${command}" is not in the commands directory` };
  if (!path.startsWith(dir + sep)) return { problem: `command "${command}" resolves outside the commands directory` };
  if (path.endsWith('.json')) return { problem: `command "${command}" is a manifest, not a command` };
  // env(1) starts the command and would take a path holding `=` for a variable.
  if (path.includes('=')) return { problem: `command "${command}" has "=" in its path` };
  const isExecutableFile =
    (await stat(path)).isFile() &&
    (await access(path, constants.X_OK).then(
      () => true,
      () => false,
    ));
  if (!isExecutableFile) return { problem: `command "${command}" is not an executable file` };
  return { path };
}
