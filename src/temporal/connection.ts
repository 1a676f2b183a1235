import { Client, Connection, isRetryableError, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { dataConverterFor } from './payload-codec.js';

/** The longest pause between retries of one call. */
const longestRetryPauseMs = 1000;

/**
 * The SDK's retry of UNAVAILABLE and its kin, with pauses capped at a second: its own cap (5 s) sleeps past a
 * request's deadline, so an outage answered a 503 up to ≈ 3 s late.
 */
const retryInterceptor = makeGrpcRetryInterceptor({
  delayFunction: (attempt) => Math.min(longestRetryPauseMs, 100 * 1.7 ** attempt) * (0.8 + Math.random() * 0.4),
  retryableDecider: (attempt, status) => attempt < 10 && isRetryableError(status),
});

/**
 * A client that connects on first use, so the API starts (and answers 503) while Temporal is down.
 * `payloadCodecs` (payloadCodecsFor(config)) encode every payload it writes and decode what it reads; with any,
 * failures' messages and stack traces are encoded too (dataConverterFor).
 */
export function createLazyClient(address: string, namespace: string, payloadCodecs: PayloadCodec[] = []): Client {
  return new Client({
    connection: Connection.lazy({ address, interceptors: [retryInterceptor] }),
    namespace,
    dataConverter: dataConverterFor(payloadCodecs),
    // Job states are queried only of running workflows; a closed one's would cost a worker a full replay.
    workflow: { queryRejectCondition: 'NOT_OPEN' },
  });
}
