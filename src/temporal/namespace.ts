import { isGrpcServiceError, type Connection } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time.js';
import { jobSearchAttributeTypes } from './server-settings.js';

const grpcNotFound = 5;
const grpcAlreadyExists = 6;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by registerJobNamespace when a job search attribute exists with another type: nothing can fix that but a new namespace. */
export class SearchAttributeTypeMismatchError extends Error {
  override readonly name = 'SearchAttributeTypeMismatchError';
}

/** Thrown by registerJobNamespace when the server did not accept the namespace in time; `cause` is its last answer. */
export class NamespaceRegistrationTimedOutError extends Error {
  override readonly name = 'NamespaceRegistrationTimedOutError';
}

const isCode = (err: unknown, code: number): boolean => isGrpcServiceError(err) && (err.code as number) === code;

async function ensureNamespace(connection: Connection, namespace: string, retentionHours: number): Promise<void> {
  const retentionMs = retentionHours * 3_600_000;
  const retention = msToTs(retentionMs);
  try {
    const { config } = await connection.workflowService.describeNamespace({ namespace });
    if (tsToMs(config?.workflowExecutionRetentionTtl) !== retentionMs) {
      await connection.workflowService.updateNamespace({
        namespace,
        config: { workflowExecutionRetentionTtl: retention },
      });
    }
  } catch (err) {
    if (!isCode(err, grpcNotFound)) throw err;
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention })
      .catch((registerErr: unknown) => {
        if (!isCode(registerErr, grpcAlreadyExists)) throw registerErr;
      });
  }
}

async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: ReturnType<typeof jobSearchAttributeTypes> = {};
  for (const [name, type] of Object.entries(jobSearchAttributeTypes())) {
    const existing = customAttributes?.[name];
    if (existing === undefined || existing === null) missing[name] = type;
    else if (existing !== type)
      throw new SearchAttributeTypeMismatchError(
        `search attribute ${name} exists in ${namespace} with type ${existing}, not ${type}`,
      );
  }
  if (Object.keys(missing).length > 0)
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}

/**
 * Makes the namespace exist with the retention asked (JOB_RETENTION_HOURS) and our search attributes
 * (server-settings.ts), changing only what differs, so it is safe on every start and a new retention applies at the
 * next. Retries while the server is still coming up: a namespace just registered is unknown to the frontend's cache
 * for a few seconds.
 */
export async function registerJobNamespace(
  connection: Connection,
  namespace: string,
  retentionHours: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ensureNamespace(connection, namespace, retentionHours);
      await ensureSearchAttributes(connection, namespace);
      return;
    } catch (err) {
      if (err instanceof SearchAttributeTypeMismatchError) throw err;
      if (Date.now() > deadline) {
        throw new NamespaceRegistrationTimedOutError(
          `namespace ${namespace} was not registered within ${timeoutMs / 1000} s: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await delay(500);
    }
  }
}
