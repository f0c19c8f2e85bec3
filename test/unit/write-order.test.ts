import { MemoryCacheStore } from '../../core/adapters/redis/cache-store.memory';
import { isNewerWrite, orderKeyOf, type WriteOrder } from '../../core/domain/cache-store';

// ADR 0053: the rule of set-if-newer, and the in-memory store that follows it as the Lua script does
// (test/integration/status-cache-order.test.ts runs the script on a real Redis).

const order = (run: string, sequence: number, final = false): WriteOrder => ({
  run,
  sequence,
  final,
  keepSeconds: 60,
});

describe('isNewerWrite', () => {
  it('orders records of one run by sequence; an equal one (a retried write) is not older', () => {
    const stored = { run: 'r1', sequence: 5, ended: null };
    expect(isNewerWrite(stored, order('r1', 4))).toBe(false);
    expect(isNewerWrite(stored, order('r1', 5))).toBe(true);
    expect(isNewerWrite(stored, order('r1', 6))).toBe(true);
  });

  it('lets another run write unless the writer is a run known to have ended', () => {
    expect(isNewerWrite({ run: 'r1', sequence: 9, ended: 'r1' }, order('r2', 1))).toBe(true);
    expect(isNewerWrite({ run: 'r2', sequence: 1, ended: 'r1' }, order('r1', 9, true))).toBe(false);
    expect(isNewerWrite({ run: 'r2', sequence: 1, ended: 'r1' }, order('r3', 1))).toBe(true);
  });

  it('writes when nothing is on record', () => {
    expect(isNewerWrite(null, order('r1', 0))).toBe(true);
  });
});

describe('MemoryCacheStore.setIfNewer', () => {
  it('keeps the newer value and remembers an ended run past a new one', async () => {
    const store = new MemoryCacheStore();
    expect(await store.setIfNewer('k', 'six', 30, order('r1', 6))).toBe(true);
    expect(await store.setIfNewer('k', 'five', 30, order('r1', 5))).toBe(false);
    expect(await store.get('k')).toBe('six');
    expect(await store.setIfNewer('k', 'failed', 30, order('r1', 7, true))).toBe(true);
    expect(await store.setIfNewer('k', 'retry', 30, order('r2', 1))).toBe(true);
    expect(await store.setIfNewer('k', 'late', 30, order('r1', 7, true))).toBe(false);
    expect(await store.get('k')).toBe('retry');
    // The value may go (invalidated, expired): the order still refuses what is older.
    expect(await store.deleteMatching('k')).toBe(1);
    expect(await store.setIfNewer('k', 'late', 30, order('r1', 7, true))).toBe(false);
    expect(await store.get('k')).toBeNull();
    // Everything gone: anything lands.
    await store.deleteMatching('*');
    expect(await store.setIfNewer('k', 'late', 30, order('r1', 7, true))).toBe(true);
  });

  it('keeps the order in the Redis Cluster slot of the value', () => {
    expect(orderKeyOf('rpa:cache:robotStatus:r1')).toBe('{rpa:cache:robotStatus:r1}:order');
    expect(orderKeyOf('{rpa}:cache:robotStatus:r1')).toBe('{rpa}:cache:robotStatus:r1:order');
    expect(orderKeyOf('{}:cache:r1')).toBe('{}:cache:r1:order');
  });
});
