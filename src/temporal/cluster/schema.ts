import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { postgresRole } from './postgres.js';

const run = promisify(execFile);

/** The two databases Temporal uses and the schema (embedded in the sql tool) each gets. */
const databases = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

/** Thrown by setUpSchemas when the sql tool fails; the message carries its output. */
export class SchemaSetupFailedError extends Error {
  override readonly name = 'SchemaSetupFailedError';
}

/**
 * Creates both databases with their schemas on a new server; on an existing one only applies the
 * versioned updates it lacks (none, unless the pinned server version moved), so data is kept.
 */
export async function setUpSchemas(sqlTool: string, port: number, options: { fresh: boolean }): Promise<void> {
  for (const database of databases) {
    const tool = async (...args: string[]): Promise<void> => {
      const connection = ['--ep', '127.0.0.1', '-p', String(port), '-u', postgresRole.user, '--pw', postgresRole.password, '--pl', 'postgres12', '--db', database.name];
      await run(sqlTool, [...connection, ...args]).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new SchemaSetupFailedError(`temporal-sql-tool ${args[0]} on ${database.name} failed:\n${err.stderr || err.stdout || err.message}`);
      });
    };
    if (options.fresh) {
      await tool('create-database');
      await tool('setup-schema', '-v', '0.0');
    }
    await tool('update-schema', '--schema-name', database.schema);
  }
}
