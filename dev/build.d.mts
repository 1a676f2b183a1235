export declare function buildSources(): Promise<void>;
export declare const partNodeFlags: readonly string[];
export declare const workerMallocEnv: Readonly<Record<'MALLOC_ARENA_MAX' | 'MALLOC_MMAP_THRESHOLD_', string>>;
export declare function partArgs(entry: string): string[];
