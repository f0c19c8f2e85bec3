import net from 'node:net';

/**
 * A loopback TCP proxy a test can cut (every connection dropped, new ones refused) and restore,
 * make slow one way (requests still reach the server, its replies wait: an ambiguous outcome), or
 * blackhole: nothing passes either way and nobody is told, as when a network drops packets.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Replies held back while set, per client socket, in arrival order. */
  private held: Map<net.Socket, Buffer[]> | null = null;
  /** While blackholed: everything that would have crossed the proxy (bytes, closes, connects), in order. */
  private stalled: Array<() => void> | null = null;
  /** What the latest blackhole held back: chunks of bytes each way and connections left unanswered. */
  blackholeStats = { toServer: 0, toClient: 0, connections: 0 };
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
    /** Where it listens: another local address (a veth's, say) for clients on another host. */
    private readonly listenHost = '127.0.0.1',
  ) {}

  /** Runs `action` now, or on `heal()` while blackholed (TCP retransmits what a blackhole dropped). */
  private pass(action: () => void): void {
    if (this.stalled) this.stalled.push(action);
    else action();
  }

  async start(port = this.port): Promise<number> {
    const server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      client.pause();
      const connect = () => {
        if (client.destroyed) return;
        const upstream = net.connect(this.targetPort, this.targetHost);
        this.sockets.add(upstream);
        upstream.on('close', () => this.sockets.delete(upstream));
        upstream.on('error', () => upstream.destroy());
        client.on('data', (chunk: Buffer) => {
          if (this.stalled) this.blackholeStats.toServer += 1;
          this.pass(() => upstream.write(chunk));
        });
        upstream.on('data', (chunk: Buffer) => {
          if (this.stalled) this.blackholeStats.toClient += 1;
          this.pass(() => {
            const held = this.held;
            if (!held) {
              client.write(chunk);
              return;
            }
            const queue = held.get(client) ?? [];
            queue.push(chunk);
            held.set(client, queue);
          });
        });
        client.on('close', () => this.pass(() => upstream.destroy()));
        upstream.on('close', () => this.pass(() => client.destroy()));
        client.resume();
      };
      // A connection made while blackholed is accepted here but reaches the server only on heal
      // (its SYN would be retransmitted until then).
      if (this.stalled) this.blackholeStats.connections += 1;
      this.pass(connect);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.listenHost, () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.server = server;
    return this.port;
  }

  /** From now on the server's replies wait in the proxy; what the client sends still arrives. */
  holdReplies(): void {
    this.held ??= new Map();
  }

  /** Delivers the held replies (late, as a slow network would) and stops holding. */
  releaseReplies(): void {
    const held = this.held;
    this.held = null;
    for (const [client, chunks] of held ?? []) {
      if (!client.destroyed) for (const chunk of chunks) client.write(chunk);
    }
  }

  /**
   * Packets dropped, not refused: live connections stop carrying anything either way, new ones are
   * accepted but never answered, and a side that closes is not heard by the other, until `heal()`.
   */
  blackhole(): void {
    this.stalled ??= [];
    this.blackholeStats = { toServer: 0, toClient: 0, connections: 0 };
  }

  /** The network is back: what the blackhole held arrives late, in order, where both ends still listen. */
  heal(): void {
    const stalled = this.stalled ?? [];
    this.stalled = null;
    for (const action of stalled) action();
  }

  /** An outage: live connections die and new ones are refused until `start()` again. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
