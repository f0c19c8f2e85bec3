import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot';
import { ROOT } from '../support/test-env';

// The private Dovecot must work wherever the checkout lives and whoever runs the tests: as root its
// mail processes run as the `dovecot` user, as anybody else as that user. Both are exercised here
// (as root, the second run is as `nobody`, the way a non-root developer runs it).

const user: DovecotUser = { user: 'probe', password: 'probe-pass' };
const isRoot = process.getuid?.() === 0;

async function roundTrip(dovecot: Dovecot): Promise<void> {
  const raw = 'From: a@example.test\r\nTo: probe@example.test\r\nSubject: hi\r\n\r\nbody\r\n';
  const uid = await dovecot.append(user, raw);
  expect(uid).toBeGreaterThan(0);
  expect((await dovecot.list(user, 'INBOX'))?.map((message) => message.uid)).toEqual([uid]);
}

test('runs as this user, in a directory outside the checkout', async () => {
  const dovecot = await startDovecot([user]);
  try {
    expect(dovecot.dir.startsWith(ROOT)).toBe(false);
    await roundTrip(dovecot);
  } finally {
    await dovecot.stop();
  }
});

test(isRoot ? 'runs as a non-root user (nobody)' : 'refuses runAs without root', async () => {
  if (!isRoot) {
    await expect(startDovecot([user], { runAs: 'nobody' })).rejects.toThrow('needs root');
    return;
  }
  const dovecot = await startDovecot([user], { runAs: 'nobody' });
  try {
    await roundTrip(dovecot);
  } finally {
    await dovecot.stop();
  }
});
