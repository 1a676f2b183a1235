import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

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
 * Creates both databases with their schemas, or brings existing ones up to the sql tool's version. Each
 * step leaves what exists alone (checked with v1.32.2's tool), so this is safe on every start.
 */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** The role Temporal connects as. */
  readonly user: string;
  readonly password: string;
}

export async function setUpSchemas(sqlTool: string, server: PostgresServer): Promise<void> {
  for (const database of databases) {
    const connection = [
      '--ep',
      server.host,
      '-p',
      String(server.port),
      '-u',
      server.user,
      '--pw',
      server.password,
      '--pl',
      'postgres12',
      '--db',
      database.name,
    ];
    for (const step of [
      ['create-database'],
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '--schema-name', database.schema],
    ]) {
      await run(sqlTool, [...connection, ...step]).catch((err: unknown) => {
        const failure = err as Error & { stdout?: string; stderr?: string };
        throw new SchemaSetupFailedError(
          `temporal-sql-tool ${step[0]} on ${database.name} failed:\n${failure.stderr || failure.stdout || failure.message}`,
        );
      });
    }
  }
}
