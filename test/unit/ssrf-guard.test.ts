import { SsrfGuard, TargetRefusedError } from '../../core/adapters/http/ssrf.guard';

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
