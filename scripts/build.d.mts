export declare const buildDir: string;
export declare function buildSources(): Promise<void>;
export declare function builtEntry(entry: string): string;
