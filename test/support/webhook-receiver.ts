import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type WebhookCheck } from '../../core/adapters/crypto/standard-webhooks';

export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook` */
  url: string;
  /** Every request, in arrival order. */
  received: ReceivedHook[];
  /** Scripted status codes, first in first out; 200 when empty. */
  answers: number[];
  close(): Promise<void>;
}

/** A loopback HTTP server that records webhook deliveries (notification tests). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * What a receiver of our deliveries runs: the Standard Webhooks check the API's own /hooks route
 * runs (one verifier for both directions, ADR 0048), at the time of the call.
 */
export function verifyDelivery(hook: ReceivedHook | undefined, secret: string): WebhookCheck {
  return verifyWebhook(secret, hook?.headers ?? {}, hook?.body ?? '', Math.floor(Date.now() / 1000));
}
