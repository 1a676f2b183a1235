// Creates Temporal's databases and schemas on the PostgreSQL at POSTGRES_HOST:POSTGRES_PORT, or brings them up
// to date, then exits: the one-shot schema container of docker-compose.yml. `npm run cluster` does the same in-process.
import { z } from 'zod';
import { setUpSchemas } from './schema.js';

const Env = z.object({
  POSTGRES_HOST: z.string().min(1).default('127.0.0.1'),
  POSTGRES_PORT: z.coerce.number().int().min(1).max(65_535).default(5432),
  // The names the temporalio/server image reads.
  POSTGRES_USER: z.string().min(1).default('temporal'),
  POSTGRES_PWD: z.string().min(1).default('temporal'),
  TEMPORAL_SQL_TOOL: z.string().min(1).default('temporal-sql-tool'),
});

async function run(): Promise<void> {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success)
    throw new Error(
      `invalid configuration: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
    );
  const env = parsed.data;
  await setUpSchemas(env.TEMPORAL_SQL_TOOL, {
    host: env.POSTGRES_HOST,
    port: env.POSTGRES_PORT,
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PWD,
  });
  console.log(`Temporal schemas are up to date on ${env.POSTGRES_HOST}:${env.POSTGRES_PORT}`);
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
