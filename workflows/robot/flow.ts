// Why the robot workflow's step code is written as generators (`function*`, `yield* awaited(…)`)
// rather than as async functions that await each other.
//
// When one workflow task brings two events (a step's activity ends as an SLA timer fires, or as an
// update arrives), both coroutines wake in the same activation, and the order of their commands is
// the order in which their microtasks run. Every async function between an event and the commands
// that follow it adds a microtask turn, so moving inline workflow code into async helpers can
// reorder commands, and histories recorded before the move then fail to replay
// (test/fixtures/histories/collision-*.json are such histories). A generator nested with `yield*`
// adds no turn: `drive` awaits every yielded value in its own frame, exactly where the inline code
// awaited it, so the code can be split into functions without changing when any command is issued.

/** Workflow code that awaits through `drive`: `yield* awaited(p)` stands for `await p`. */
export type Flow<R> = Generator<unknown, R, never>;

/** `yield* awaited(p)` is `await p`, taken by `drive` in the workflow's own frame. */
export function* awaited<T>(value: Promise<T> | T): Generator<Promise<T> | T, T, T> {
  return yield value;
}

/** Runs a flow: each value it yields is awaited here, and its result (or error) handed back. */
export async function drive<R>(flow: Flow<R>): Promise<R> {
  const steps = flow as Generator<unknown, R, unknown>;
  let next = steps.next();
  while (!next.done) {
    let settled: { value: unknown } | { error: unknown };
    try {
      settled = { value: await next.value };
    } catch (error) {
      settled = { error };
    }
    next = 'error' in settled ? steps.throw(settled.error) : steps.next(settled.value);
  }
  return next.value;
}
