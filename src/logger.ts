import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** pino-pretty is a development dependency: a production install (`npm ci --omit=dev`) has none. */
function prettyPrinterInstalled(): boolean {
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * JSON lines, or pretty ones when a person watches a terminal and pino-pretty is installed. Authorization headers
 * never reach the log.
 */
export function createLogger(name: string, level: Config['LOG_LEVEL']): Logger {
  // Typed boolean, but undefined when stdout is not a terminal.
  const pretty = process.stdout.isTTY && !process.env['CI'] && prettyPrinterInstalled();
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
