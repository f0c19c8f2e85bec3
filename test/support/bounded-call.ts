import path from 'node:path';
import { Worker } from 'node:worker_threads';

// A call that backtracks catastrophically would hang the Jest process itself: a regex cannot be
// interrupted on its own thread. So the call runs in a worker thread, which `terminate()` does stop
// mid-regex, and the test gets a bounded answer either way: how long the call took, or that it was
// still running at the deadline.

export type BoundedOutcome =
  | { finished: true; ms: number; result: unknown }
  | { finished: false; ms: number };

const root = path.join(__dirname, '..', '..');

// tsx (a dev dependency) loads the TypeScript; the worker says when it is about to call, so the
// deadline covers the call and not the transpiling.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
require('tsx/cjs');
const { file, name, args } = workerData;
const target = require(file)[name];
const fn = target instanceof RegExp ? (text) => target.test(text) : target;
parentPort.postMessage({ calling: true });
const started = performance.now();
Promise.resolve()
  .then(() => fn(...args))
  .then(
    (result) => parentPort.postMessage({ ms: performance.now() - started, result }),
    (error) => parentPort.postMessage({ ms: performance.now() - started, error: String(error) }),
  );
`;

type Message = { calling: true } | { ms: number; result?: unknown; error?: string };

/**
 * Calls `name` exported by `file` (relative to the repository root; a function, or a RegExp whose
 * `test` is called) with `args` in a worker thread, and gives up once the call has run `deadlineMs`.
 */
export function callBounded(
  file: string,
  name: string,
  args: unknown[],
  deadlineMs: number,
): Promise<BoundedOutcome> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file: path.join(root, file), name, args },
  });
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let calledAt = 0;
    const finish = () => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.on('message', (message: Message) => {
      if ('calling' in message) {
        calledAt = performance.now();
        timer = setTimeout(() => {
          finish();
          resolve({ finished: false, ms: performance.now() - calledAt });
        }, deadlineMs);
        return;
      }
      finish();
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve({ finished: true, ms: message.ms, result: message.result });
    });
    worker.once('error', (error) => {
      finish();
      reject(error);
    });
  });
}
