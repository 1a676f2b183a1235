// The API key the user signed in with: kept in sessionStorage (this tab only, gone when it closes), never in a URL.
const keyItem = 'durable-jobs.api-key';

export function storedKey(): string | undefined {
  return sessionStorage.getItem(keyItem) ?? undefined;
}

export function storeKey(key: string): void {
  sessionStorage.setItem(keyItem, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(keyItem);
}
