import {
  newWebhookSecret,
  secretProblem,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
} from '../../core/adapters/crypto/standard-webhooks';

// The test vector published with the Standard Webhooks specification (and used by its reference
// libraries): our signer must produce the same bytes, or other libraries cannot verify us.
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const headersOf = (signature: string, timestamp = SPEC.timestamp, id = SPEC.id) => ({
  'webhook-id': id,
  'webhook-timestamp': String(timestamp),
  'webhook-signature': signature,
});

describe('Standard Webhooks signatures', () => {
  it('match the specification test vector', () => {
    expect(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
    expect(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, Buffer.from(SPEC.body))).toBe(SPEC.signature);
    expect(verifyWebhook(SPEC.secret, headersOf(SPEC.signature), SPEC.body, SPEC.timestamp + 10)).toEqual({
      ok: true,
      id: SPEC.id,
      timestamp: SPEC.timestamp,
    });
  });

  it('accept any one matching v1 signature of several (secret rotation), ignore other versions', () => {
    const several = `v1a,${SPEC.signature.slice(3)} v1,AAAA ${SPEC.signature}`;
    expect(verifyWebhook(SPEC.secret, headersOf(several), SPEC.body, SPEC.timestamp).ok).toBe(true);
    expect(
      verifyWebhook(SPEC.secret, headersOf(`v2,${SPEC.signature.slice(3)}`), SPEC.body, SPEC.timestamp),
    ).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuse another secret, another body, another id or another timestamp', () => {
    const other = newWebhookSecret();
    const now = SPEC.timestamp;
    const bad = { ok: false, reason: 'bad-signature' };
    expect(verifyWebhook(other, headersOf(SPEC.signature), SPEC.body, now)).toEqual(bad);
    expect(verifyWebhook(SPEC.secret, headersOf(SPEC.signature), `${SPEC.body} `, now)).toEqual(bad);
    expect(verifyWebhook(SPEC.secret, headersOf(SPEC.signature, now, 'msg_other'), SPEC.body, now)).toEqual(
      bad,
    );
    expect(verifyWebhook(SPEC.secret, headersOf(SPEC.signature, now + 1), SPEC.body, now)).toEqual(bad);
  });

  it('refuse a timestamp outside the tolerance either way, and missing or malformed headers', () => {
    const headers = headersOf(SPEC.signature);
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, SPEC.timestamp + 301)).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, SPEC.timestamp + 301, 600).ok).toBe(true);
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, SPEC.timestamp - 301)).toEqual({
      ok: false,
      reason: 'future-timestamp',
    });
    const { 'webhook-id': _id, ...noId } = headers;
    expect(verifyWebhook(SPEC.secret, noId, SPEC.body, SPEC.timestamp)).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
    expect(
      verifyWebhook(
        SPEC.secret,
        { ...headers, 'webhook-timestamp': '1614265330.5' },
        SPEC.body,
        SPEC.timestamp,
      ),
    ).toEqual({ ok: false, reason: 'missing-headers' });
  });

  it('make secrets in the whsec_ base64 form, and sign requests with all three headers', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretProblem(secret)).toBeNull();
    const headers = webhookHeaders(secret, 'msg_1', 1_700_000_000, '{}');
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(verifyWebhook(secret, headers, '{}', 1_700_000_000).ok).toBe(true);
  });

  it('name what is wrong with a secret', () => {
    expect(secretProblem('s3cret-s3cret-s3cret')).toBe('must start with whsec_');
    expect(secretProblem('whsec_not base64!')).toBe('must be whsec_ followed by standard base64');
    expect(secretProblem(`whsec_${Buffer.alloc(8).toString('base64')}`)).toBe(
      'must hold 24 to 64 bytes (holds 8)',
    );
    expect(secretProblem(SPEC.secret)).toBeNull();
  });

  it('use a secret without the prefix (older subscriptions) as its raw bytes', () => {
    const raw = 's3cret-s3cret-s3cret';
    const signature = signWebhook(raw, 'msg_1', 1_700_000_000, '{}');
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const expected = createHmac('sha256', raw).update('msg_1.1700000000.{}').digest('base64');
    expect(signature).toBe(`v1,${expected}`);
  });
});
