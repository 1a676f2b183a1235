import { setFlagsFromString } from 'node:v8';
import { startTracing } from '@durable-jobs/worker/tracing';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createLazyClient } from '../temporal/connection.js';
import { payloadCodecsFor } from '../temporal/payload-codec.js';
import { createApp } from './app.js';
import { applyServerTimeouts } from './server-timeouts.js';

/** In-flight requests get this long to finish after SIGTERM before the process exits anyway. */
const shutdownGraceMs = 10_000;

async function run(): Promise<void> {
  // Heap growth tuned for memory over speed: the API keeps little live data but allocates briskly per request,
  // and V8's default growth let its heap reach three times that under load (bench peak 182 → 108 MB with this).
  setFlagsFromString('--optimize-for-size');
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  const tracing = await startTracing('durable-jobs-api');
  const client = createLazyClient(
    config.temporalAddress,
    config.TEMPORAL_NAMESPACE,
    payloadCodecsFor(config),
    tracing?.clientInterceptors,
  );
  if (config.apiKeys.length === 0) {
    // A warning only where others can reach it: on loopback (the default without keys) only this machine can.
    const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.listenHost);
    logger[loopback ? 'info' : 'warn'](
      'no API keys configured (API_KEYS, API_KEYS_FILE): the API is open to anyone who reaches it, and every job is tenant "default"\'s',
    );
  } else {
    logger.info({ tenants: [...new Set(config.apiKeys.map(({ tenant }) => tenant))] }, 'API keys configured');
  }
  if (!config.PAYLOAD_ENCRYPTION_KEY)
    logger.warn('no PAYLOAD_ENCRYPTION_KEY: job inputs and results are stored in Temporal in clear text');
  if (!config.JOBS_CURSOR_KEY)
    logger.warn(
      'no JOBS_CURSOR_KEY: list cursors are signed with a key of this process, so any other API process (and this one after a restart) refuses them with 400',
    );
  const app = createApp({ client, config, logger, traced: tracing !== undefined });
  const server = app.koa.listen(config.PORT, config.listenHost);
  applyServerTimeouts(server);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const listening = config.HOST
    ? 'HOST'
    : config.apiKeys.length === 0
      ? 'loopback only: no API keys are configured (HOST moves it)'
      : 'every interface: API keys are configured (HOST moves it)';
  logger.info(
    {
      host: config.listenHost,
      port: config.PORT,
      temporal: config.temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
    },
    `API listening on http://${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${config.PORT} (${listening})`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new requests; finishing those in flight');
    app.close();
    server.close(() => {
      void Promise.allSettled([client.connection.close(), tracing?.shutdown()]).finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => {
      logger.warn('requests still in flight after the grace period; exiting');
      process.exit(0);
    }, shutdownGraceMs).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

run().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
