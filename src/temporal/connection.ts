import { Client, Connection } from '@temporalio/client';

/**
 * A client that connects on first use, so the API starts (and answers 503) while Temporal is down.
 */
export function createLazyClient(address: string, namespace: string): Client {
  return new Client({ connection: Connection.lazy({ address }), namespace });
}
