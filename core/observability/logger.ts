import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config';
import { currentLogContext } from './log-context';
import { redactLogLine } from './secret-redaction';

export type { Logger };

/** `destination`: where JSON lines go instead of stdout (tests read them). */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>,
  name: string,
  destination?: DestinationStream,
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
  return destination ? pino(options, destination) : pino(options);
}
