import { lookup } from 'node:dns/promises';
import net from 'node:net';

/**
 * Webhook targets and http-request step URLs are user input: without a guard, a subscription or a
 * robot type could make our servers call internal services or a cloud metadata endpoint. Addresses
 * in these ranges are refused unless allow-listed (NOTIFY_ALLOWED_HOSTS for webhooks,
 * HTTP_STEP_ALLOWED_HOSTS for the step: host names, IPs or CIDRs).
 */
const BLOCKED = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(address, prefix, 'ipv4');
}
for (const [address, prefix] of [
  // IPv4-mapped addresses (::ffff:a.b.c.d) are unmapped and judged by the IPv4 rules.
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7], // unique local, incl. fd00:ec2::254 metadata
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(address, prefix, 'ipv6');
}

export class TargetRefusedError extends Error {}

/** The host name did not resolve: refused like any other target, but it may resolve later. */
export class HostUnresolvedError extends TargetRefusedError {}

export class SsrfGuard {
  private readonly hosts = new Set<string>();
  private readonly allowed = new net.BlockList();

  /**
   * `allowList`: host names, IP addresses or CIDRs that may be private (e.g. 127.0.0.1 in tests).
   * `setting`: the variable that holds it, named in refusals so an operator knows what to change.
   */
  constructor(
    allowList: string[],
    private readonly setting = 'NOTIFY_ALLOWED_HOSTS',
  ) {
    for (const entry of allowList.map((e) => e.trim().toLowerCase()).filter(Boolean)) {
      const [address, prefix] = entry.split('/');
      const family = net.isIP(address ?? '');
      if (family === 0) this.hosts.add(entry);
      else if (prefix !== undefined)
        this.allowed.addSubnet(address ?? '', Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
      else this.allowed.addAddress(address ?? '', family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Whether this resolved address may be connected to. */
  addressAllowed(address: string): boolean {
    const unmapped =
      address.toLowerCase().startsWith('::ffff:') && net.isIPv4(address.slice(7))
        ? address.slice(7)
        : address;
    const family = net.isIP(unmapped) === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(unmapped, family)) return true;
    return !BLOCKED.check(unmapped, family);
  }

  /**
   * Resolves a URL's host and returns the addresses to connect to; throws TargetRefusedError for a
   * non-http(s) URL or when any address is refused (a host that resolves to both is refused).
   */
  async resolve(url: URL): Promise<{ address: string; family: number }[]> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TargetRefusedError(`only http and https targets are allowed, not ${url.protocol}`);
    }
    if (url.username || url.password) throw new TargetRefusedError('credentials in the URL are not allowed');
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const literal = net.isIP(host);
    const addresses = literal
      ? [{ address: host, family: literal }]
      : await lookup(host, { all: true, verbatim: true }).catch(() => {
          throw new HostUnresolvedError(`host ${host} does not resolve`);
        });
    if (this.hosts.has(host)) return addresses;
    const refused = addresses.filter((a) => !this.addressAllowed(a.address));
    if (refused.length > 0) {
      throw new TargetRefusedError(
        `${host} resolves to a private, loopback, link-local or metadata address (${refused.map((a) => a.address).join(', ')}); allow it with ${this.setting}`,
      );
    }
    return addresses;
  }
}
