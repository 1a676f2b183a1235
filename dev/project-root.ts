import { fileURLToPath } from 'node:url';

/** The checkout the development tooling works in: dev/ runs from its TypeScript sources, never compiled. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));
