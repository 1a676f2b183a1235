import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** JSON lines, or pretty ones when a person watches a terminal. Authorization headers never reach the log. */
export function createLogger(name: string, level: Config['LOG_LEVEL']): Logger {
  // Typed boolean, but undefined when stdout is not a terminal.
  const pretty = process.stdout.isTTY && !process.env['CI'];
  return pino({
    name,
    level,
    redact: {
      paths: ['authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization'],
      censor: '[redacted]',
    },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
