import type { ChildProcess, SpawnOptions } from 'node:child_process';

export declare const childrenDieWithUs: boolean;
export declare function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
