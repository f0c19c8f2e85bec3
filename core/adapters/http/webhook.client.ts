import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookResult } from '../../domain/notification-delivery';
import { webhookHeaders } from '../crypto/standard-webhooks';
import { type SsrfGuard, TargetRefusedError } from './ssrf.guard';

// Deliveries are signed the Standard Webhooks way (core/adapters/crypto/standard-webhooks.ts, ADR
// 0048): `webhook-id` is the delivery id (the same on every retry, so receivers can deduplicate).

export interface WebhookRequest {
  url: string;
  secret: string;
  event: string;
  deliveryId: string;
  body: string;
  timeoutMs: number;
  nowSeconds: number;
}

/**
 * POSTs one signed delivery. The connection goes to the address the SSRF guard vetted (a pinned
 * lookup), so a DNS answer that changes between check and connect cannot reach a private address.
 * Redirects are not followed.
 */
export async function sendWebhook(guard: SsrfGuard, request: WebhookRequest): Promise<WebhookResult> {
  let url: URL;
  let vetted: { address: string; family: number };
  try {
    url = new URL(request.url);
    const [first] = await guard.resolve(url);
    if (!first) throw new TargetRefusedError('no address');
    vetted = first;
  } catch (err) {
    return { ok: false, retryable: false, error: err instanceof Error ? err.message : String(err) };
  }
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [vetted]);
    else callback(null, vetted.address, vetted.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<WebhookResult>((resolve) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        timeout: request.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'rpa-orchestrator-webhook/1',
          'x-rpa-event': request.event,
          ...webhookHeaders(request.secret, request.deliveryId, request.nowSeconds, request.body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ ok: true, status, retryable: false });
          else
            resolve({
              ok: false,
              status,
              retryable: status === 408 || status === 429 || status >= 500,
              error: status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`,
            });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, retryable: true, error: err.message }));
    req.end(request.body);
  });
}
