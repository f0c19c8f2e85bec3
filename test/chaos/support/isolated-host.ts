import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { missingMessage } from '../../support/system-deps';
import { TcpProxy } from '../../support/tcp-proxy';
import type { TcpEndpoint } from './tcp-sockets';
import { createUserSpaceHost } from './user-space-host';

const run = promisify(execFile);

// A second "host" on this machine for the network-partition scenario. Where the process may make
// network namespaces (root, CAP_NET_ADMIN): a network namespace whose only way out is a veth pair
// through a "wire" namespace holding a bridge. A partition makes the wire drop every frame (a tbf
// qdisc whose bucket is smaller than any packet, on both of its ports); healing removes those qdiscs.
// The drop is in the wire, not on either end, so the two ends' stacks see what a cut cable or dead
// switch gives them: packets that vanish, no refusal, no error, and TCP connections that carry on
// once it heals. Dropping on an end's own device instead is reported to that end's sockets (they
// time out within seconds), and `ip link set down` removes routes. Neighbours are permanent, so no
// ARP failure turns the silence into "host unreachable". (tbf, not netem or nft: the kernels this
// runs on need not have either; tbf and bridges they do.) Anywhere else (not root), the user-space
// emulation of user-space-host.ts: the same forwarders, blackholed instead of the wire.

export type IsolationMode = 'network namespace' | 'user-space blackhole';

export interface IsolatedHost {
  mode: IsolationMode;
  /** This machine as the isolated host reaches it: where its forwarders listen. */
  hostAddress: string;
  /** Command prefix that runs a process on the isolated host. */
  prefix: string[];
  partitioned: boolean;
  /** A forwarder to `target` (host:port or URL) for the isolated host alone; returns its host:port. */
  forward(target: string): Promise<string>;
  /**
   * A forwarder to `target` every host uses (a URL all of them are given); the partition cuts the
   * isolated host's connections through it and no other.
   */
  forwardShared(target: string): Promise<string>;
  /** The address a server on the isolated host binds (HOST): reachable from this machine by `serve`. */
  listenAddress: string;
  /**
   * Where this machine reaches a server listening on the isolated host at `port` (host:port): the
   * node's own address across the wire, or in user space a forwarder the partition cuts.
   */
  serve(port: number): Promise<string>;
  /** Where the forwarders listen: the only places the isolated host's connections may lead. */
  forwarders(): TcpEndpoint[];
  /** Tells the host a process started with `prefix` runs on it. */
  adopt(pid: number): void;
  /** Every packet between the two hosts is dropped from now on. */
  partition(): Promise<void>;
  heal(): Promise<void>;
  /** Removes what it made (namespaces, veths, forwarders); safe to call after a failed setup. */
  close(): Promise<void>;
}

async function ip(args: string[], namespace?: string): Promise<string> {
  const full = namespace ? ['netns', 'exec', namespace, 'ip', ...args] : args;
  return (await run('ip', full)).stdout;
}

async function tc(args: string[], namespace: string): Promise<void> {
  await run('ip', ['netns', 'exec', namespace, 'tc', ...args]);
}

/** A /30 in 10.201.0.0/16 that no local interface uses (unique per run, with random names). */
async function freeSubnet(): Promise<[string, string]> {
  const used = await ip(['-4', '-o', 'addr', 'show']);
  for (;;) {
    const base = `10.201.${randomInt(0, 256)}.${randomInt(0, 64) * 4}`;
    const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
    const host = `${a}.${b}.${c}.${d + 1}`;
    if (!used.includes(`${a}.${b}.${c}.`)) return [host, `${a}.${b}.${c}.${d + 2}`];
  }
}

/**
 * Checks what the namespace host needs and says what is missing: iproute2 (`ip`, `tc`) and the right
 * to make network namespaces (root, CAP_NET_ADMIN). A user namespace (`unshare --user --net`) is no
 * substitute: its veths could not reach this machine's loopback services.
 */
async function requireNetworkAdmin(probe: string): Promise<void> {
  try {
    await run('ip', ['-V']);
    await run('tc', ['-V']);
  } catch {
    throw new Error(`the network-partition scenario needs ip and tc: ${missingMessage('iproute2')}`);
  }
  try {
    await run('ip', ['netns', 'add', probe]);
  } catch (err) {
    throw new Error(
      `the network-partition scenario needs CAP_NET_ADMIN (run it as root) to make network namespaces; ` +
        `\`ip netns add\` failed: ${err instanceof Error ? err.message.trim() : String(err)}`,
    );
  }
}

/**
 * The namespace host as root (failing, as before, when root cannot make one); the user-space
 * emulation otherwise, since only root (CAP_NET_ADMIN) may make network namespaces.
 */
export async function createIsolatedHost(): Promise<IsolatedHost> {
  return process.getuid?.() === 0 ? createNamespaceHost() : createUserSpaceHost();
}

async function createNamespaceHost(): Promise<IsolatedHost> {
  const id = randomBytes(3).toString('hex');
  const namespace = `rpa-part-${id}-node`;
  const wire = `rpa-part-${id}-wire`;
  // Interface names: at most 15 characters.
  const hostIf = `rpp${id}h`;
  const wireHostIf = `rpp${id}wh`;
  const wireNodeIf = `rpp${id}wn`;
  const nodeIf = `rpp${id}n`;
  const bridge = `rpp${id}br`;
  const [hostAddress, address] = await freeSubnet();

  let created = false;
  const proxies: TcpProxy[] = [];
  const host: IsolatedHost = {
    mode: 'network namespace',
    hostAddress,
    prefix: ['ip', 'netns', 'exec', namespace],
    partitioned: false,
    async forward(target) {
      const url = new URL(target.includes('://') ? target : `tcp://${target}`);
      const port = Number(url.port || (url.protocol.startsWith('postgres') ? 5432 : Number.NaN));
      const proxy = new TcpProxy(port, url.hostname, hostAddress);
      proxies.push(proxy);
      return `${hostAddress}:${await proxy.start(0)}`;
    },
    // This host's own processes reach the veth's address locally, never across the wire.
    forwardShared: (target) => host.forward(target),
    listenAddress: address,
    serve: async (port) => `${address}:${port}`,
    forwarders: () => proxies.map((proxy) => ({ address: hostAddress, port: proxy.port })),
    adopt() {
      // The namespace is what places a process on the host.
    },
    async partition() {
      for (const port of [wireHostIf, wireNodeIf]) {
        await tc(
          ['qdisc', 'replace', 'dev', port, 'root', 'tbf', 'rate', '1kbit', 'burst', '10', 'limit', '10'],
          wire,
        );
      }
      host.partitioned = true;
    },
    async heal() {
      for (const port of [wireHostIf, wireNodeIf]) await tc(['qdisc', 'del', 'dev', port, 'root'], wire);
      host.partitioned = false;
    },
    async close() {
      for (const proxy of proxies) await proxy.cut();
      if (!created) return;
      for (const name of [namespace, wire]) await run('ip', ['netns', 'del', name]).catch(() => undefined);
      // The host end goes with its peer in the wire namespace; this only covers a half-made setup.
      await run('ip', ['link', 'del', hostIf]).catch(() => undefined);
    },
  };

  await requireNetworkAdmin(namespace);
  created = true;
  try {
    await ip(['netns', 'add', wire]);
    await ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', wireHostIf, 'netns', wire]);
    await ip([
      'link',
      'add',
      nodeIf,
      'netns',
      namespace,
      'type',
      'veth',
      'peer',
      'name',
      wireNodeIf,
      'netns',
      wire,
    ]);
    await ip(['link', 'add', bridge, 'type', 'bridge'], wire);
    for (const port of [wireHostIf, wireNodeIf]) await ip(['link', 'set', port, 'master', bridge], wire);
    for (const link of [bridge, wireHostIf, wireNodeIf]) await ip(['link', 'set', link, 'up'], wire);
    await ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await ip(['link', 'set', hostIf, 'up']);
    await ip(['addr', 'add', `${address}/30`, 'dev', nodeIf], namespace);
    await ip(['link', 'set', nodeIf, 'up'], namespace);
    await ip(['link', 'set', 'lo', 'up'], namespace);
    const hostMac = (await ip(['-br', 'link', 'show', hostIf])).trim().split(/\s+/)[2] ?? '';
    const nodeMac = (await ip(['-br', 'link', 'show', nodeIf], namespace)).trim().split(/\s+/)[2] ?? '';
    await ip(['neigh', 'replace', address, 'lladdr', nodeMac, 'dev', hostIf, 'nud', 'permanent']);
    await ip(
      ['neigh', 'replace', hostAddress, 'lladdr', hostMac, 'dev', nodeIf, 'nud', 'permanent'],
      namespace,
    );
  } catch (err) {
    await host.close();
    throw err;
  }
  return host;
}
