import { isIP } from 'node:net';
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './domain/durations';
import { parseRateLimitOverrides } from './domain/rate-limit-policy';
import { parseSentinelUrl } from './domain/redis-url';

// Field types and two groups of the configuration schema (core/config.ts), kept apart so that file
// stays readable; only core/config.ts parses the environment with them.

/**
 * SECRETS_KEYS, parsed: what the secret box (core/adapters/crypto/secret-box.ts) seals and opens with.
 * Here, with the configuration, because the schema refuses a bad keyring at start.
 */
export interface Keyring {
  current: { id: string; key: Buffer };
  keys: Map<string, Buffer>;
}

export function parseKeyring(text: string): Keyring {
  const keys = new Map<string, Buffer>();
  let current: Keyring['current'] | undefined;
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (colon < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error('each entry must be id:base64key');
    if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes, base64-encoded`);
    if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
    keys.set(id, key);
    current ??= { id, key };
  }
  if (!current) throw new Error('give at least one id:base64key');
  return { current, keys };
}

export const port = z.coerce.number().int().min(1).max(65535);
export const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.join(' or ')}//`,
  );
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const weight = z.coerce.number().min(0).max(1);

/**
 * Comma-separated host names, IPs or CIDRs that the SSRF guard lets through
 * (core/adapters/http/ssrf.guard.ts).
 */
export const hostList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  );

/** proxy-addr's names for address ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Express `trust proxy`, which decides req.ip (the address rate limits and the audit log use):
 * `false` (no proxy; X-Forwarded-For ignored), a hop count, or a comma list of proxy addresses,
 * CIDRs or range names. `true` is refused: it trusts every hop, so the left-most X-Forwarded-For
 * entry (written by the client) would be the IP.
 */
export const trustProxy = z
  .string()
  .default('false')
  .transform((text, ctx): false | number | string[] => {
    const value = text.trim();
    if (value === 'false') return false;
    if (value === 'true') {
      ctx.addIssue({
        code: 'custom',
        message:
          'true would let any client choose its IP with X-Forwarded-For; give the number of proxies in front (e.g. 1) or their addresses',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops <= 10) return hops === 0 ? false : hops;
      ctx.addIssue({ code: 'custom', message: 'a hop count must be 0 to 10' });
      return z.NEVER;
    }
    const entries = value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (entries.length > 0 && bad.length === 0) return entries;
    ctx.addIssue({
      code: 'custom',
      message: `must be false, a hop count or a comma list of IPs, CIDRs, loopback, linklocal or uniquelocal${bad.length > 0 ? ` (not: ${bad.join(', ')})` : ''}`,
    });
    return z.NEVER;
  });

/** A duration like `30s` or `7d`, parsed to milliseconds. */
export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'must look like 500ms, 30s, 15m, 24h or 7d')
  .transform((value) => parseDuration(value) ?? 0)
  .refine((ms) => ms >= 1000 && ms <= 365 * 86_400_000, 'must be between 1s and 365d');

/** Redis and the cache in it. */
export const redisFields = {
  // redis:// or rediss://, or a Sentinel deployment: redis+sentinel://host:26379,host2:26379/mymaster
  // (core/domain/redis-url.ts). Redis Cluster is not supported (ADR 0057).
  REDIS_URL: z
    .string()
    .refine(
      (value) => parseSentinelUrl(value) !== null || url(['redis:', 'rediss:']).safeParse(value).success,
      'must be a URL starting with redis:// or rediss://, or redis+sentinel://host:port[,host:port…]/master',
    )
    .optional(),
  // Namespace of the module routing state in Redis: deployments sharing one Redis must differ.
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, : _ - only')
    .default('rpa:'),
  // Each Redis client (core/adapters/redis/redis.client.ts) connects within REDIS_CONNECT_TIMEOUT_MS;
  // commands of module routing state and of live robot events fail after their timeout (the cache's
  // and the rate limiter's have their own, below and in the rate-limit settings).
  REDIS_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  REDIS_ROUTING_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(2000),
  REDIS_EVENTS_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  // "Smart TTL": short for what changes (live robot status, module health), long for what does not
  // (a finished robot, a robot-type version).
  CACHE_STATUS_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  CACHE_TERMINAL_STATUS_TTL_SECONDS: z.coerce.number().int().min(1).max(604_800).default(3600),
  CACHE_MODULE_HEALTH_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  CACHE_ROBOT_TYPE_TTL_SECONDS: z.coerce.number().int().min(1).max(604_800).default(3600),
  // A Redis slower than this counts as failed; after CACHE_CIRCUIT_FAILURE_THRESHOLD failures in a
  // row requests skip the cache for CACHE_CIRCUIT_HALF_OPEN_SECONDS, then one probes it again.
  CACHE_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  CACHE_CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(3),
  CACHE_CIRCUIT_HALF_OPEN_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
};

/** API keys, rate limits, HTTP hardening and robot secrets. */
export const httpSecurityFields = {
  // API keys (ADR 0011): how long a key lookup is cached (a revoke takes effect within it) and
  // how often a key's last_used_at is written at most.
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  API_KEY_LAST_USED_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),

  // Rate limits (ADR 0013): a sliding window per API key, and per IP for callers without a valid key.
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  RATE_LIMIT_PER_KEY: z.coerce.number().int().min(1).max(100_000_000).default(600),
  RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).max(100_000_000).default(60),
  // `admin=3000,POST /v1/robots=120`: per-scope limits and extra per-route budgets.
  RATE_LIMIT_OVERRIDES: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parseRateLimitOverrides(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  // How long a rate-limit call to Redis may take before the in-memory fallback decides.
  RATE_LIMIT_REDIS_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(250),
  // Robots one key may have unfinished at once (POST /v1/robots answers 429 concurrency-limit).
  MAX_RUNNING_ROBOTS_PER_KEY: z.coerce.number().int().min(1).max(10_000_000).default(200),

  // HTTP hardening: deepest JSON body nesting; browser origins allowed by CORS (comma list; empty:
  // CORS off); server timeouts (a slow client cannot hold a connection open for ever).
  JSON_MAX_DEPTH: z.coerce.number().int().min(2).max(200).default(20),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .refine(
      (origins) => origins.every((origin) => /^https?:\/\/[^/\s]+$/.test(origin)),
      'must be a comma list of origins like https://ops.example.com',
    ),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  // SIGTERM: readiness turns 503 at once; the server keeps accepting for the delay (a load balancer's
  // probe interval, so it stops routing here first), then in-flight requests get the timeout to finish.
  API_SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).max(300).default(0),
  API_SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(25),

  // Robot secrets (ADR 0014): "id:base64key,…" (32-byte keys); the first encrypts, all decrypt.
  // Unset: the secrets API answers 503 (`rpa start` makes a local key in DATA_DIR).
  SECRETS_KEYS: z
    .string()
    .optional()
    .superRefine((text, ctx) => {
      if (text === undefined) return;
      try {
        parseKeyring(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
};
