import net from 'node:net';

/**
 * A loopback TCP proxy a test can cut (every connection dropped, new ones refused) and restore,
 * or make slow one way: requests still reach the server, its replies wait (an ambiguous outcome).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Replies held back while set, per client socket, in arrival order. */
  private held: Map<net.Socket, Buffer[]> | null = null;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
    /** Where it listens: another local address (a veth's, say) for clients on another host. */
    private readonly listenHost = '127.0.0.1',
  ) {}

  async start(port = this.port): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        const held = this.held;
        if (!held) {
          client.write(chunk);
          return;
        }
        const queue = held.get(client) ?? [];
        queue.push(chunk);
        held.set(client, queue);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
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

  /** An outage: live connections die and new ones are refused until `start()` again. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
