// The commands a worker offers, read from the commands directory when it starts, and what the command job type
// declares from them: its input schema and its per-command defaults.
import { readdir } from 'node:fs/promises';
import type { DefaultsWhen, JsonSchemaObject } from '@durable-jobs/worker';
import { readManifest, type CommandManifest } from './manifest.js';
import { resolveCommand } from './resolve.js';

export interface CatalogCommand {
  readonly name: string;
  readonly manifest: CommandManifest;
}

/**
 * Every runnable command of the directory (its top level) with its manifest; the others with the reason; and why the
 * directory itself cannot be read, when it cannot (then no command is offered).
 */
export async function commandCatalog(commandsDir: string): Promise<{
  commands: CatalogCommand[];
  skipped: { name: string; problem: string }[];
  unreadable?: string;
}> {
  let entries: string[];
  try {
    entries = await readdir(commandsDir);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      commands: [],
      skipped: [],
      unreadable: `the commands directory ${commandsDir} cannot be read (${reason})`,
    };
  }
  const names = entries.filter((name) => !name.endsWith('.json') && !name.startsWith('.')).sort();
  const commands: CatalogCommand[] = [];
  const skipped: { name: string; problem: string }[] = [];
  for (const name of names) {
    const resolved = await resolveCommand(name, commandsDir);
    if ('problem' in resolved) {
      skipped.push({ name, problem: resolved.problem });
      continue;
    }
    const read = await readManifest(resolved.path, name);
    if ('problem' in read) skipped.push({ name, problem: read.problem });
    else commands.push({ name, manifest: read.manifest });
  }
  return { commands, skipped };
}

/** An argument or env value: the OS cannot pass a NUL byte. The API shows the description beside the pattern. */
const processString = {
  type: 'string',
  maxLength: 32_768,
  pattern: '^[^\\u0000]*$',
  description: 'must not contain a NUL character',
};

/**
 * The command type's input, draft 2020-12: `command` one of the directory's commands, and for each command an
 * `if`/`then` that allows exactly the env names its manifest declares.
 */
export function commandInputSchema(commands: readonly CatalogCommand[]): JsonSchemaObject {
  return {
    type: 'object',
    properties: {
      command: {
        type: 'string',
        description: 'a command of the commands directory',
        ...(commands.length > 0 ? { enum: commands.map(({ name }) => name) } : { not: {} }),
      },
      args: { type: 'array', items: processString, maxItems: 1000 },
      env: {
        type: 'object',
        description: "only the names the command's manifest declares",
        additionalProperties: processString,
      },
    },
    required: ['command'],
    additionalProperties: false,
    allOf: commands.map(({ name, manifest }) => ({
      if: { properties: { command: { const: name } }, required: ['command'] },
      then: {
        properties: {
          env: {
            description: `the manifest of command "${name}" declares ${manifest.env.length > 0 ? manifest.env.join(', ') : 'no env'}`,
            properties: Object.fromEntries(manifest.env.map((variable) => [variable, true])),
            additionalProperties: false,
          },
        },
      },
    })),
  };
}

/** A manifest's timeoutSeconds and maxAttempts, as defaults for the jobs of its command. */
export function commandDefaultsWhen(commands: readonly CatalogCommand[]): DefaultsWhen {
  return commands.flatMap(({ name, manifest: { timeoutSeconds, maxAttempts } }) =>
    timeoutSeconds || maxAttempts
      ? [
          {
            field: 'command',
            equals: name,
            defaults: {
              ...(timeoutSeconds ? { timeoutSeconds } : {}),
              ...(maxAttempts ? { retry: { maxAttempts } } : {}),
            },
          },
        ]
      : [],
  );
}
