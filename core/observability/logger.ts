import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config';
import { currentLogContext } from './log-context';
import { redactLogLine } from './secret-redaction';

export type { Logger };

/**
 * `destination`: where JSON lines go instead of stdout (tests read them). `asyncStdout`: JSON lines
 * to stdout are written off the main thread (the API: a synchronous write per access log line was
 * a large share of a cached read's time, ADR 0045); what is buffered is flushed when the process
 * exits, as it does on a crash or a signal, so only a SIGKILL can lose the last lines.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>,
  name: string,
  destination?: DestinationStream,
  { asyncStdout = false }: { asyncStdout?: boolean } = {},
): Logger {
  const pretty =
    !destination && (config.LOG_PRETTY ?? (config.NODE_ENV === 'development' && process.stdout.isTTY));
  const options: LoggerOptions = {
    name,
    level: config.LOG_LEVEL,
    // Request, robot and workflow ids on every line, from the async context (log-context.ts).
    mixin: () => ({ ...currentLogContext() }),
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
    // Secret values a module step holds never reach a log line, whoever writes it (ADR 0014).
    hooks: { streamWrite: redactLogLine },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } }
      : {}),
  };
  if (destination) return pino(options, destination);
  if (asyncStdout && !pretty) return pino(options, pino.destination({ dest: 1, sync: false }));
  return pino(options);
}
