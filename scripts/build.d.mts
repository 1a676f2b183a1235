export declare const buildDir: string;
export declare function buildSources(): Promise<void>;
export declare function builtEntry(entry: string): string;
export declare const partNodeFlags: readonly string[];
export declare function partArgs(entry: string): string[];
