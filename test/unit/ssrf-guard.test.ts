import { SsrfGuard, TargetRefusedError } from '../../core/adapters/http/ssrf.guard';
import { signWebhook, verifyWebhook } from '../../core/adapters/http/webhook.client';

describe('SsrfGuard without an allow-list', () => {
  const guard = new SsrfGuard([]);

  it.each([
    'http://127.0.0.1/hook',
    'http://10.1.2.3/hook',
    'http://172.20.0.1/hook',
    'http://192.168.0.10/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/hook',
    'http://0.0.0.0/hook',
    'http://[::1]/hook',
    'http://[fe80::1]/hook',
    'http://[fd00:ec2::254]/latest',
    'http://[::ffff:169.254.169.254]/latest',
    'http://[::ffff:10.0.0.1]/hook',
    'http://167772161/hook', // 10.0.0.1 in decimal
    'http://0x7f.1/hook', // 127.0.0.1 in hex
    'http://localhost/hook',
  ])('refuses %s', async (url) => {
    await expect(guard.resolve(new URL(url))).rejects.toBeInstanceOf(TargetRefusedError);
  });

  it.each(['ftp://example.com/x', 'file:///etc/passwd', 'gopher://example.com/'])(
    'refuses scheme of %s',
    async (url) => {
      await expect(guard.resolve(new URL(url))).rejects.toThrow('only http and https');
    },
  );

  it('refuses credentials in the URL', async () => {
    await expect(guard.resolve(new URL('http://user:pw@8.8.8.8/'))).rejects.toThrow('credentials');
  });

  it('allows a public address literal', async () => {
    await expect(guard.resolve(new URL('https://93.184.215.14/hook'))).resolves.toEqual([
      { address: '93.184.215.14', family: 4 },
    ]);
  });
});

describe('SsrfGuard with an allow-list', () => {
  const guard = new SsrfGuard(['127.0.0.1', '10.9.0.0/16', 'hooks.internal']);

  it('allows listed addresses and ranges, nothing next to them', async () => {
    await expect(guard.resolve(new URL('http://127.0.0.1:9/x'))).resolves.toHaveLength(1);
    await expect(guard.resolve(new URL('http://10.9.200.1/x'))).resolves.toHaveLength(1);
    await expect(guard.resolve(new URL('http://10.8.0.1/x'))).rejects.toBeInstanceOf(TargetRefusedError);
    await expect(guard.resolve(new URL('http://127.0.0.2/x'))).rejects.toBeInstanceOf(TargetRefusedError);
  });
});

describe('webhook signatures', () => {
  const body = JSON.stringify({ event: 'robot.completed', data: { robotId: 'r1' } });
  const signature = signWebhook('s3cret-s3cret-s3cret', 1_700_000_000, body);

  it('verify with the secret, the signed timestamp and the exact body', () => {
    const headers = { signature, timestamp: '1700000000' };
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, body, 1_700_000_010)).toBe(true);
    expect(verifyWebhook('another-secret-value', headers, body, 1_700_000_010)).toBe(false);
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, `${body} `, 1_700_000_010)).toBe(false);
    expect(
      verifyWebhook('s3cret-s3cret-s3cret', { signature, timestamp: '1700000001' }, body, 1_700_000_010),
    ).toBe(false);
  });

  it('refuse a replay outside the tolerance and a missing header', () => {
    expect(
      verifyWebhook('s3cret-s3cret-s3cret', { signature, timestamp: '1700000000' }, body, 1_700_001_000),
    ).toBe(false);
    expect(
      verifyWebhook(
        's3cret-s3cret-s3cret',
        { signature: undefined, timestamp: '1700000000' },
        body,
        1_700_000_000,
      ),
    ).toBe(false);
  });
});
