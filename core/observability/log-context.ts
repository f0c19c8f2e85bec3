import { AsyncLocalStorage } from 'node:async_hooks';

/** Ids every log line should carry, whichever logger writes it (see createLogger's mixin). */
export interface LogContext {
  requestId?: string;
  robotId?: string;
  workflowId?: string;
  runId?: string;
  activity?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it awaits) with these ids added to the current context. */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

/** Adds ids learnt later (a route's robot id) to the running context. */
export function addLogContext(context: LogContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, context);
}
