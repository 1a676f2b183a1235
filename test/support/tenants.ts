// A service with API keys, for the tests that act as more than one tenant.
import { TestService, type ServiceOptions } from './service.js';

/** Two tenants and their keys (the API takes keys of 16 characters or more). */
export const twoTenants = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' } as const;

/** Starts the service with these tenants' keys (API_KEYS), its requests sent as the first tenant. */
export async function startWithTenants(
  keys: Readonly<Record<string, string>>,
  options: ServiceOptions = {},
): Promise<TestService> {
  const apiKeys = Object.entries(keys).map(([tenant, key]) => `${tenant}:${key}`);
  const service = await TestService.start({ ...options, env: { ...options.env, API_KEYS: apiKeys.join(',') } });
  service.apiKey = Object.values(keys)[0];
  return service;
}

/** Runs `act` with the service's requests sent with `apiKey`, then goes back to the key it had. */
export async function asTenant<T>(service: TestService, apiKey: string, act: () => Promise<T>): Promise<T> {
  const before = service.apiKey;
  service.apiKey = apiKey;
  try {
    return await act();
  } finally {
    service.apiKey = before;
  }
}
