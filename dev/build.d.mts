export declare function buildSources(): Promise<void>;
export declare const partNodeFlags: readonly string[];
export declare function partArgs(entry: string): string[];
