// REDIS_URL is a plain `redis://` / `rediss://` URL, or names a Sentinel deployment:
//   redis+sentinel://[user:password@]host:26379,host2:26379/mymaster[/db]
// (rediss+sentinel: TLS to the master and replicas). The password, if any, is the master's; ioredis
// asks the sentinels for the current master and follows a failover. WHATWG URL cannot parse the
// comma-separated host list, hence this parser.

export const SENTINEL_PROTOCOLS = ['redis+sentinel:', 'rediss+sentinel:'] as const;

export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  name: string;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

const SENTINEL_URL =
  /^(rediss?)\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)\/([^/]+)(?:\/(\d{1,2}))?\/?$/;

/** The Sentinel deployment a `redis+sentinel://` URL names, or null if the URL is not of that form. */
export function parseSentinelUrl(url: string): SentinelTarget | null {
  const match = SENTINEL_URL.exec(url);
  if (!match) return null;
  const [, scheme, user, password, hosts = '', name = '', db] = match;
  const sentinels: SentinelTarget['sentinels'] = [];
  for (const entry of hosts.split(',')) {
    const hostPort = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry.trim());
    if (!hostPort) return null;
    const port = Number(hostPort[2] ?? 26379);
    if (port < 1 || port > 65535) return null;
    sentinels.push({ host: (hostPort[1] ?? '').replace(/^\[|\]$/g, ''), port });
  }
  return {
    sentinels,
    name: decodeURIComponent(name),
    db: Number(db ?? 0),
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    tls: scheme === 'rediss',
  };
}
