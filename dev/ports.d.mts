import type { Config } from '../src/config.js';

export type LauncherPart = 'temporal' | 'api' | 'worker';

export interface NeededPort {
  readonly port: number;
  readonly host: string;
  /** The environment variable that moves it. */
  readonly variable: string;
  readonly what: string;
}

export declare function portsOf(config: Config, parts: readonly LauncherPart[]): NeededPort[];
export declare function portProblems(ports: readonly NeededPort[]): Promise<string[]>;
export declare function listensOn(pid: number, port: number): boolean | undefined;
