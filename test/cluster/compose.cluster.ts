// docker-compose.yml cannot run here (no Docker engine), so this checks what it takes from the project against the
// one source, src/temporal/server-settings.ts, and runs its two one-shot setup entries against a real PostgreSQL
// and Temporal cluster. `.ci/run` validates the file's syntax with `docker-compose config -q`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { partNodeFlags, workerMallocEnv } from '../../dev/build.mjs';
import { projectRoot } from '../../dev/project-root.js';
import { buildClusterBinaries, temporalServerModule, type ClusterBinaries } from '../../dev/cluster/build.js';
import { LocalCluster } from '../../dev/cluster/cluster.js';
import { LocalPostgres } from '../../dev/cluster/postgres.js';
import { defaultJobRetentionHours } from '../../src/config.js';
import { pickClusterPorts } from '../../dev/cluster/services.js';
import { dynamicConfigYaml, historyShardCount, jobSearchAttributeTypes } from '../../src/temporal/server-settings.js';
import { buildPartSources, Part } from '../support/processes.js';

const run = promisify(execFile);
const readProjectFile = (path: string): Promise<string> => readFile(join(projectRoot, path), 'utf8');

/** The value of `key: value` on its own line in a YAML or Dockerfile text (quotes dropped). */
function valueOf(text: string, key: string): string | undefined {
  // Either quote: Prettier writes YAML strings in single quotes.
  const match = new RegExp(`^\\s*${key}[:=]\\s*(["']?)([^"'\\n]*?)\\1\\s*$`, 'm').exec(text);
  return match?.[2];
}

describe('docker-compose.yml takes its Temporal settings from server-settings.ts', function () {
  this.timeout(120_000);
  let compose: string;
  let dockerfile: string;
  let binaries: ClusterBinaries;

  before(async function () {
    this.timeout(20 * 60_000);
    [compose, dockerfile, binaries] = await Promise.all([
      readProjectFile('docker-compose.yml'),
      readProjectFile('Dockerfile'),
      buildClusterBinaries(),
    ]);
  });

  it('mounts the dynamic config generated from the module, which the server accepts', async () => {
    const file = 'deploy/temporal/dynamicconfig.yaml';
    assert.equal(
      await readProjectFile(file),
      dynamicConfigYaml(),
      `${file} is stale: write dynamicConfigYaml() of src/temporal/server-settings.ts to it`,
    );
    const mountedAt = valueOf(compose, 'DYNAMIC_CONFIG_FILE_PATH');
    assert.ok(mountedAt, 'the temporal service sets DYNAMIC_CONFIG_FILE_PATH');
    assert.ok(compose.includes(`- ./${file}:${mountedAt}:ro`), `the temporal service mounts ${file} at ${mountedAt}`);
    const { stdout } = await run(binaries.server, ['validate-dynamic-config', join(projectRoot, file)]);
    assert.doesNotMatch(stdout, /error|warning/, stdout);
  });

  it('runs the pinned server version with the module’s history shard count', () => {
    const serverImages = [...compose.matchAll(/image: temporalio\/server:(\S+)/g)].map((match) => match[1]);
    assert.deepEqual(serverImages, [temporalServerModule.version.replace(/^v/, '')]);
    assert.equal(valueOf(compose, 'NUM_HISTORY_SHARDS'), String(historyShardCount));
    assert.match(dockerfile, new RegExp(`GOTOOLCHAIN=${temporalServerModule.goToolchain}\\b`));
    assert.ok(
      dockerfile.includes(`go install ${temporalServerModule.path}/cmd/tools/sql@${temporalServerModule.version}`),
      'the Dockerfile builds the pinned sql tool',
    );
  });

  it('sets up schemas and the namespace with the same entries the compose file runs', async function () {
    this.timeout(180_000);
    assert.match(compose, /target: temporal-schema/);
    assert.match(compose, /command: \['node', 'dist\/temporal\/register-namespace\.js'\]/);
    assert.match(dockerfile, /CMD \["node", "dist\/temporal\/setup-schema\.js"\]/);
    const mallocSettings = Object.entries(workerMallocEnv).map(([name, value]) => `${name}=${value}`);
    assert.ok(
      dockerfile.includes(`NODE_OPTIONS=${[partNodeFlags.join(' '), ...mallocSettings].join(' ')}\n`),
      'the images run Node with the flags `npm run <part>` gives, and the malloc settings `npm run worker` gives',
    );

    const dir = await mkdtemp(join(tmpdir(), 'durable-jobs-compose-'));
    await chmod(dir, 0o755);
    const ports = await pickClusterPorts(1);
    let cluster: LocalCluster | undefined;
    const parts: Part[] = [];
    try {
      // The schema container's entry, on an empty PostgreSQL as compose's first start has it.
      const postgres = await LocalPostgres.start({
        dataDir: join(dir, 'cluster', 'postgres'),
        port: ports.postgres,
        logFile: join(dir, 'postgres.log'),
      });
      try {
        await buildPartSources();
        const schema = Part.spawn('temporal-schema', 'src/temporal/setup-schema.ts', {
          POSTGRES_HOST: '127.0.0.1',
          POSTGRES_PORT: String(ports.postgres),
          TEMPORAL_SQL_TOOL: binaries.sqlTool,
        });
        parts.push(schema);
        await schema.waitForOutput(/^Temporal schemas are up to date/, 60_000);
      } finally {
        await postgres.stop();
      }
      cluster = await LocalCluster.start({
        dir: join(dir, 'cluster'),
        binaries,
        ports,
        namespace: 'default',
        log: () => undefined,
      });

      // The namespace container's entry, for a namespace of its own.
      const namespace = 'compose-check';
      const register = Part.spawn('temporal-namespace', 'src/temporal/register-namespace.ts', {
        TEMPORAL_ADDRESS: cluster.address,
        TEMPORAL_NAMESPACE: namespace,
      });
      parts.push(register);
      await register.waitForOutput(/^namespace compose-check registered on /, 120_000);
      const { config } = await cluster.connection.workflowService.describeNamespace({ namespace });
      assert.equal(Number(config?.workflowExecutionRetentionTtl?.seconds), defaultJobRetentionHours * 3600);
      const { customAttributes } = await cluster.connection.operatorService.listSearchAttributes({ namespace });
      for (const [name, type] of Object.entries(jobSearchAttributeTypes()))
        assert.equal(customAttributes?.[name], type, `search attribute ${name}`);
    } finally {
      await Promise.all(parts.map((part) => part.stop('SIGKILL')));
      await cluster?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
