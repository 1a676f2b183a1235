import {
  Client,
  Connection,
  type ClientInterceptors,
  isGrpcServiceError,
  isRetryableError,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { dataConverterFor } from './payload-codec.js';

/**
 * Each call to Temporal gets this long, retries included, unless its caller set a deadline of its own
 * (`connection.withDeadline`): a request that makes many calls (a batch, a list) is not cut short by the sum of them.
 */
export const callDeadlineMs = 5000;

/** The longest pause between retries of one call. */
const longestRetryPauseMs = 1000;

/**
 * The longest wait between attempts to connect again. grpc-js's own (2 min, growing 1.6 times from 1 s) kept the API
 * unready, every call refused, for up to a minute after a Temporal that was away half a minute had come back.
 */
const longestReconnectPauseMs = 2000;

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];
type InterceptorOptions = Parameters<Interceptor>[0];
type InterceptingCall = ReturnType<Parameters<Interceptor>[1]>;
type CallStatus = Parameters<NonNullable<NonNullable<Parameters<InterceptingCall['start']>[1]>['onReceiveStatus']>>[0];

/** Metadata on a failed call's status: one of its attempts may have reached Temporal (see isOutcomeUnknown). */
const maybeSentKey = 'durable-jobs-maybe-sent';
/** Where the two interceptors around the retry share what they saw of one call's attempts. */
const attemptsKey = Symbol('attempts');
type TrackedOptions = InterceptorOptions & { [attemptsKey]?: { maybeSent: boolean } };

// gRPC codes an attempt ends with when its request may have reached the server and its answer was lost: cancelled,
// unknown, deadline exceeded, aborted, internal, unavailable, data loss. Any other code is the server's own answer.
const lostAnswerCodes = new Set([1, 2, 4, 10, 13, 14, 15]);
// grpc-js's words for an attempt that never left this process: no connection to pick, a stream the server refused
// before its handler saw it, a deadline that passed before a connection was picked.
const neverSent =
  /No connection established|Stream refused by server|Waiting for LB pick|waiting for name resolution|waiting for metadata filters|Failed to start HTTP\/2 stream/;

/** True when an attempt that ended with this status may have been carried out by Temporal. */
function mayHaveBeenSent(status: CallStatus): boolean {
  return lostAnswerCodes.has(status.code) && !neverSent.test(status.details);
}

/**
 * `call` with its listener's status seen first by `onStatus`. grpc-js needs only the call's interface of what an
 * interceptor returns, though its type names the class (which the SDK does not let us import).
 */
function watchingStatus(call: InterceptingCall, onStatus: (status: CallStatus) => void): ReturnType<Interceptor> {
  const watched = Object.create(call) as InterceptingCall;
  watched.start = (metadata, listener) => {
    call.start(metadata, {
      onReceiveMetadata: (received) => listener?.onReceiveMetadata?.(received),
      onReceiveMessage: (message) => listener?.onReceiveMessage?.(message),
      onReceiveStatus: (status) => {
        onStatus(status);
        listener?.onReceiveStatus?.(status);
      },
    });
  };
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- grpc-js calls only the interface
  return watched as ReturnType<Interceptor>;
}

/**
 * Outermost: the call's own deadline (unless its caller set one), and a mark on a failed call's status when any of its
 * attempts may have reached Temporal, so that a start whose outcome is unknown is not taken for one never sent.
 */
const perCall: Interceptor = (options, nextCall) => {
  const attempts = { maybeSent: false };
  const tracked: TrackedOptions = {
    ...options,
    deadline: options.deadline ?? Date.now() + callDeadlineMs,
    [attemptsKey]: attempts,
  };
  return watchingStatus(nextCall(tracked), (status) => {
    if (lostAnswerCodes.has(status.code) && attempts.maybeSent) status.metadata.set(maybeSentKey, '1');
  });
};

/** Innermost: sees each attempt the retry makes. */
const eachAttempt: Interceptor = (options: TrackedOptions, nextCall) =>
  watchingStatus(nextCall(options), (status) => {
    const attempts = options[attemptsKey];
    if (attempts && mayHaveBeenSent(status)) attempts.maybeSent = true;
  });

/**
 * The SDK's retry of UNAVAILABLE and its kin, with pauses capped at a second (its own cap, 5 s, sleeps past a call's
 * deadline) and none begun that would end past the call's deadline: a pause that outlives it only delays the 503.
 */
const retryInterceptor: Interceptor = (options, nextCall) => {
  const deadline = options.deadline instanceof Date ? options.deadline.getTime() : (options.deadline ?? Infinity);
  const pauseBefore = (attempt: number) =>
    Math.min(longestRetryPauseMs, 100 * 1.7 ** attempt) * (0.8 + Math.random() * 0.4);
  let nextPauseMs = 0;
  let lastStatus: CallStatus | undefined;
  let connectionClosed = false;
  // A retry runs from the SDK's timer, where the error of a connection closed meanwhile (a process stopping during an
  // outage) would be uncaught: the call ends with the status it was retrying instead.
  const nextAttempt: typeof nextCall = (attemptOptions) => {
    try {
      return nextCall(attemptOptions);
    } catch (err) {
      if (!lastStatus) throw err;
      connectionClosed = true;
      return endedCall(lastStatus);
    }
  };
  return makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => {
      lastStatus = status;
      nextPauseMs = pauseBefore(attempt);
      return !connectionClosed && attempt < 10 && isRetryableError(status) && Date.now() + nextPauseMs < deadline;
    },
    delayFunction: () => nextPauseMs,
  })(options, nextAttempt);
};

/** A call that ends with `status` as soon as it starts, sending nothing. */
function endedCall(status: CallStatus): ReturnType<Interceptor> {
  const call: Pick<InterceptingCall, 'start' | 'sendMessage' | 'halfClose' | 'startRead' | 'cancelWithStatus'> = {
    start: (_metadata, listener) => queueMicrotask(() => listener?.onReceiveStatus?.(status)),
    sendMessage: () => undefined,
    halfClose: () => undefined,
    startRead: () => undefined,
    cancelWithStatus: () => undefined,
  };
  return call as ReturnType<Interceptor>; // grpc-js calls only these of a call's interface
}

/**
 * True when a failed call to Temporal may have been carried out: one of its attempts was sent and its answer lost
 * (the deadline passed, the connection broke). False when no attempt left this process, or Temporal answered.
 */
export function isOutcomeUnknown(err: unknown): boolean {
  for (let current = err; current; current = (current as { cause?: unknown }).cause) {
    if (isGrpcServiceError(current)) return current.metadata?.get(maybeSentKey).length === 1;
    if (typeof current !== 'object') break;
  }
  return false;
}

/**
 * A client that connects on first use, so the API starts (and answers 503) while Temporal is down.
 * `payloadCodecs` (payloadCodecsFor(config)) encode every payload it writes and decode what it reads; with any,
 * failures' messages and stack traces are encoded too (dataConverterFor). `interceptors`: startTracing's, when traces
 * are exported.
 */
export function createLazyClient(
  address: string,
  namespace: string,
  payloadCodecs: PayloadCodec[] = [],
  interceptors?: ClientInterceptors,
): Client {
  return new Client({
    connection: Connection.lazy({
      address,
      interceptors: [perCall, retryInterceptor, eachAttempt],
      channelArgs: { 'grpc.max_reconnect_backoff_ms': longestReconnectPauseMs },
    }),
    namespace,
    dataConverter: dataConverterFor(payloadCodecs),
    // Job states are queried only of running workflows; a closed one's would cost a worker a full replay.
    workflow: { queryRejectCondition: 'NOT_OPEN' },
    ...(interceptors ? { interceptors } : {}),
  });
}
