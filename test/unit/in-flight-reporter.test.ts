import { InFlightReporter } from '../../workers/in-flight-reporter';

/** A store that records what it was asked to write and answers when the test says so. */
function recordingStore() {
  const writes: number[] = [];
  const pending: { resolve(): void; reject(err: Error): void }[] = [];
  const write = (count: number) =>
    new Promise<void>((resolve, reject) => {
      writes.push(count);
      pending.push({ resolve, reject });
    });
  const answer = async (ok = true) => {
    const next = pending.shift();
    if (!next) throw new Error('no write is waiting for an answer');
    if (ok) next.resolve();
    else next.reject(new Error('store away'));
    await Promise.resolve(); // let the reporter see the answer
    await Promise.resolve();
  };
  return { writes, write, answer, waiting: () => pending.length };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('InFlightReporter', () => {
  it('writes the first change at once, then at most once per interval with the latest count', async () => {
    const store = recordingStore();
    const reporter = new InFlightReporter(store.write, 100);
    reporter.started();
    expect(store.writes).toEqual([1]);
    await store.answer();
    for (let step = 0; step < 10; step += 1) reporter.started();
    reporter.ended();
    expect(store.writes).toEqual([1]); // within the interval: nothing yet
    jest.advanceTimersByTime(99);
    expect(store.writes).toEqual([1]);
    jest.advanceTimersByTime(1);
    expect(store.writes).toEqual([1, 10]);
    expect(reporter.running()).toBe(10);
  });

  it('writes nothing when the count came back to what was last written', async () => {
    const store = recordingStore();
    const reporter = new InFlightReporter(store.write, 100);
    reporter.started();
    await store.answer();
    reporter.started();
    reporter.ended();
    jest.advanceTimersByTime(500);
    expect(store.writes).toEqual([1]);
  });

  it('has one write at a time: a change during a slow write is written after it, never before', async () => {
    const store = recordingStore();
    const reporter = new InFlightReporter(store.write, 0);
    reporter.started();
    reporter.started();
    reporter.started();
    expect(store.writes).toEqual([1]);
    jest.advanceTimersByTime(1000);
    expect(store.waiting()).toBe(1);
    await store.answer();
    expect(store.writes).toEqual([1, 3]);
  });

  it('after a failed write, the next change writes again', async () => {
    const store = recordingStore();
    const reporter = new InFlightReporter(store.write, 0);
    reporter.started();
    await store.answer(false);
    expect(store.writes).toEqual([1]); // not retried on its own: the heartbeat carries the count
    reporter.started();
    expect(store.writes).toEqual([1, 2]);
  });

  it('writes nothing after close, and close waits for the write in progress', async () => {
    const store = recordingStore();
    const reporter = new InFlightReporter(store.write, 100);
    reporter.started();
    reporter.ended(); // due at the end of the interval
    let closed = false;
    const closing = reporter.close().then(() => {
      closed = true;
    });
    await Promise.resolve();
    expect(closed).toBe(false);
    await store.answer();
    await closing;
    jest.advanceTimersByTime(1000);
    reporter.started();
    expect(store.writes).toEqual([1]);
  });
});
