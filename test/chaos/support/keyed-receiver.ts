import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyedDelivery {
  key: string;
  robotId: string;
  at: number;
}

/**
 * A loopback HTTP endpoint that plays a downstream system honouring idempotency keys (a webhook
 * receiver, an API a custom step calls): it logs every delivery with its key and the robot it names,
 * and applies each key once. Delivery is at least once by design; what must hold is one key per
 * robot and step, whatever the retries, so the effect applied is exactly one per robot.
 */
export interface KeyedReceiver {
  url: string;
  deliveries: KeyedDelivery[];
  /** Robot id → the distinct keys it was delivered with. */
  keysByRobot(): Map<string, Set<string>>;
  close(): Promise<void>;
}

export async function startKeyedReceiver(keyHeader = 'idempotency-key'): Promise<KeyedReceiver> {
  const deliveries: KeyedDelivery[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const key = req.headers[keyHeader];
      let robotId = '';
      try {
        robotId = String((JSON.parse(body) as { robotId?: unknown }).robotId ?? '');
      } catch {
        // not JSON: counted with no robot, which the invariants report
      }
      deliveries.push({ key: typeof key === 'string' ? key : '', robotId, at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    keysByRobot() {
      const byRobot = new Map<string, Set<string>>();
      for (const delivery of deliveries) {
        const keys = byRobot.get(delivery.robotId) ?? new Set<string>();
        keys.add(delivery.key);
        byRobot.set(delivery.robotId, keys);
      }
      return byRobot;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
