import net from 'node:net';
import { TcpProxy } from '../../support/tcp-proxy';
import type { IsolatedHost } from './isolated-host';
import { tcpConnectionsOf } from './tcp-sockets';

// The isolated host of the network-partition scenario where the process may not make network
// namespaces (not root): the isolated processes run on this host, and every service they use is
// reached through forwarders (TcpProxy) on loopback made for them alone. The partition blackholes all
// of those forwarders at once: live connections stop carrying anything either way, new ones are
// accepted and never answered, closes are not passed on; healing delivers what was held, in order.
// A service every host uses at one address (the webhook receiver, named in the robot type) gets a
// shared forwarder that tells the isolated processes' connections from the others' by the socket's
// owner (/proc), and passes only theirs through a forwarder the partition blackholes.
//
// What differs from dropped packets: the kernel on either side still accepts and ACKs what is
// written to a forwarder, so the isolated side sees silence rather than retransmissions (no TCP
// retransmission timeout, send buffers do not fill as fast), and a connect during the partition
// succeeds instead of hanging in SYN_SENT. Timeouts at the application level (heartbeats, gRPC
// deadlines, pool acquisition) see the same silence either way.

function targetOf(target: string): { host: string; port: number } {
  const url = new URL(target.includes('://') ? target : `tcp://${target}`);
  const port = Number(url.port || (url.protocol.startsWith('postgres') ? 5432 : Number.NaN));
  if (!Number.isInteger(port)) throw new Error(`no port in ${target}`);
  return { host: url.hostname, port };
}

export async function createUserSpaceHost(): Promise<IsolatedHost> {
  const hostAddress = '127.0.0.1';
  /** The forwarders only the isolated processes use: what the partition blackholes. */
  const own: TcpProxy[] = [];
  const routers: net.Server[] = [];
  const routed = new Set<net.Socket>();
  const pids = new Set<number>();

  const dedicated = async (target: string): Promise<TcpProxy> => {
    const { host, port } = targetOf(target);
    const proxy = new TcpProxy(port, host, hostAddress);
    await proxy.start(0);
    own.push(proxy);
    return proxy;
  };

  /** Whether the peer of `client` (a loopback connection accepted here) is an isolated process's socket. */
  const fromIsolated = async (client: net.Socket): Promise<boolean> => {
    for (const pid of pids) {
      const connections = await tcpConnectionsOf(pid).catch(() => []);
      if (
        connections.some(
          ({ local, remote }) => local.port === client.remotePort && remote.port === client.localPort,
        )
      ) {
        return true;
      }
    }
    return false;
  };

  const host: IsolatedHost = {
    mode: 'user-space blackhole',
    hostAddress,
    prefix: [],
    partitioned: false,
    forwarders: () =>
      [
        ...own.map((proxy) => proxy.port),
        ...routers.map((router) => {
          const address = router.address();
          return typeof address === 'object' && address ? address.port : 0;
        }),
      ].map((port) => ({ address: hostAddress, port })),
    async forward(target) {
      return `${hostAddress}:${(await dedicated(target)).port}`;
    },
    async forwardShared(target) {
      const { host: targetHost, port } = targetOf(target);
      const isolatedWay = await dedicated(target);
      const router = net.createServer((client) => {
        client.pause();
        routed.add(client);
        client.on('close', () => routed.delete(client));
        client.on('error', () => client.destroy());
        void fromIsolated(client).then((isolated) => {
          if (client.destroyed) return;
          const upstream = isolated
            ? net.connect(isolatedWay.port, hostAddress)
            : net.connect(port, targetHost);
          routed.add(upstream);
          upstream.on('close', () => {
            routed.delete(upstream);
            client.destroy();
          });
          upstream.on('error', () => upstream.destroy());
          client.on('close', () => upstream.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        });
      });
      await new Promise<void>((resolve, reject) => {
        router.once('error', reject);
        router.listen(0, hostAddress, () => resolve());
      });
      routers.push(router);
      const address = router.address();
      return `${hostAddress}:${typeof address === 'object' && address ? address.port : 0}`;
    },
    listenAddress: hostAddress,
    async serve(port) {
      return `${hostAddress}:${(await dedicated(`${hostAddress}:${port}`)).port}`;
    },
    adopt(pid) {
      pids.add(pid);
    },
    async partition() {
      for (const proxy of own) proxy.blackhole();
      host.partitioned = true;
    },
    async heal() {
      for (const proxy of own) proxy.heal();
      host.partitioned = false;
    },
    async close() {
      for (const socket of routed) socket.destroy();
      await Promise.all(
        routers.map((router) => new Promise<void>((resolve) => router.close(() => resolve()))),
      );
      for (const proxy of own) await proxy.cut();
    },
  };
  return host;
}
