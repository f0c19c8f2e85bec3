import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CpuSpent, startCpuCount } from '../../bench/process-cpu';
import { busyReplica } from './support/busy-replica';
import { type ChaosCluster, type ModuleSpec, startChaosCluster } from './support/cluster';
import { freePort } from './support/free-port';
import { checkInvariants, settle } from './support/invariants';
import { createIsolatedHost, type IsolatedHost } from './support/isolated-host';
import { type NginxBalancer, startNginxBalancer } from './support/nginx-balancer';
import { bySize, recordScenario } from './support/report';
import { RpaProcess } from './support/rpa-process';
import { applyChaosType, type CreatedRobot, createRobots } from './support/workload';

// Several hosts on one machine (issue 19, ADR 0058): 2 API processes behind Debian's nginx, 2
// control workers (the second API and the second control worker each on a host of its own), and 3
// module worker processes of one module, each on a module host of its own
// (support/isolated-host.ts: a network namespace behind a veth as root, the user-space forwarders
// of ADR 0039 otherwise), with real Postgres, Redis and Temporal. Robots go in through nginx only.
// 1. Throughput with 1 module process, then with 3, then with 3 and twice the clients (same run, as
//    many robots each, hold 0), with the CPU each process and the machine used (/proc, as
//    bench/throughput.ts counts it): on 2 cores the last stage shows where the ceiling is.
// 2. Faults mid-run: api-2 stopped with SIGTERM (nginx sends its share to api-1), control-1 and a
//    busy module worker on host 1 or 2 killed with SIGKILL (that one restarted on its host 1 s
//    later), and module host 3 partitioned for a while, then healed.
// Shown: every robot of both stages completed exactly once with every effect once (the chaos
// invariants), and the module steps spread over the 3 module hosts (counted by the identity of the
// worker that completed each step, `<pid>@…`, pids mapped to their host).

const size = bySize({
  short: { throughputRobots: 16, chaosRobots: 24, concurrency: 6, holdMs: 1500, partitionMs: 12_000 },
  full: { throughputRobots: 120, chaosRobots: 150, concurrency: 12, holdMs: 2000, partitionMs: 25_000 },
});
const startedAt = Date.now();
const moduleA: ModuleSpec = { name: 'chaos-a', replicas: 0, capacity: 8 };
const HOSTS = 3;
let cluster: ChaosCluster | undefined;
let nginx: NginxBalancer | undefined;
let control2: RpaProcess | undefined;
const hosts: IsolatedHost[] = [];
let controlHost: IsolatedHost | undefined;
let apiHost: IsolatedHost | undefined;
let api2: RpaProcess | undefined;
const workers: RpaProcess[] = [];
const relays: ChildProcess[] = [];
/** The system's Postgres, Temporal and Redis as a process on `host` reaches them. */
async function reachFrom(host: IsolatedHost, system: ChaosCluster): Promise<Record<string, string>> {
  const database = new URL(system.env.DATABASE_URL ?? '');
  const [postgres, temporalAddress, redis] = await Promise.all([
    host.forward(database.toString()),
    host.forward(system.temporalServer.address),
    host.forward(system.redis.url),
  ]);
  database.host = postgres;
  return {
    DATABASE_URL: database.toString(),
    TEMPORAL_ADDRESS: temporalAddress,
    REDIS_URL: `redis://${redis}`,
  };
}

/** Which module host each module worker pid ran on (pids change with a restart). */
const hostOfPid = new Map<number, number>();

function startWorker(index: number): void {
  const worker = workers[index];
  const host = hosts[index];
  if (!worker || !host) throw new Error(`no module host ${index + 1}`);
  worker.start();
  host.adopt(worker.pid ?? 0);
  hostOfPid.set(worker.pid ?? 0, index + 1);
}

/** In a network namespace 127.0.0.1 is the namespace's own: a relay there reaches the host's forwarder. */
async function relayInNamespace(host: IsolatedHost, listen: string, target: string): Promise<void> {
  const [command, ...args] = [
    ...host.prefix,
    process.execPath,
    path.join(__dirname, 'support', 'namespace-relay.js'),
    listen,
    target,
  ];
  const child = spawn(command ?? process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  relays.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay in ${host.prefix.join(' ')} exited ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('relay listening')) resolve();
    });
  });
}

beforeAll(async () => {
  cluster = await startChaosCluster({ label: 'multi-host', apis: 1, modules: [] });
  const system = cluster;
  for (let i = 0; i < HOSTS; i++) hosts.push(await createIsolatedHost());
  const hooks = new URL(system.hooks.url);
  // The webhook step posts to one URL: the receiver's, 127.0.0.1:<port>. As root each module host
  // reaches it through a relay on its own loopback; in user space the partitioned host's share goes
  // through a forwarder that cuts only its connections.
  const userSpace = hosts[0]?.mode === 'user-space blackhole';
  const hookUrl = userSpace
    ? `http://${await hosts[HOSTS - 1]?.forwardShared(system.hooks.url)}/hook`
    : `${system.hooks.url}/hook`;
  await applyChaosType(system, { email: false, hookUrl });
  for (const [index, host] of hosts.entries()) {
    const reach = await reachFrom(host, system);
    if (!userSpace) await relayInNamespace(host, hooks.host, await host.forward(system.hooks.url));
    workers.push(system.moduleProcess(moduleA, index, host.prefix, reach));
  }
  // The cluster closes them with the rest; busyReplica finds the busy one among them.
  system.modules.set(moduleA.name, workers);
  controlHost = await createIsolatedHost();
  control2 = new RpaProcess(
    'control-2',
    ['worker', '--control'],
    { ...system.env, ...(await reachFrom(controlHost, system)) },
    path.join(system.dir, 'logs'),
    controlHost.prefix,
  );
  control2.start();
  controlHost.adopt(control2.pid ?? 0);
  await control2.printed('control worker started');
  // api-2 on a host of its own: nginx reaches it across that host's wire.
  apiHost = await createIsolatedHost();
  const api2Port = await freePort();
  api2 = new RpaProcess(
    'api-2',
    ['api'],
    {
      ...system.env,
      ...(await reachFrom(apiHost, system)),
      PORT: String(api2Port),
      HOST: apiHost.listenAddress,
    },
    path.join(system.dir, 'logs'),
    apiHost.prefix,
  );
  api2.start();
  apiHost.adopt(api2.pid ?? 0);
  await api2.printed('api listening');
  const api2Url = `http://${await apiHost.serve(api2Port)}`;
  nginx = await startNginxBalancer(system.dir, [...system.apiUrls, api2Url]);
  startWorker(0);
  await workers[0]?.printed('module worker started');
  await system.awaitReplicas(moduleA.name, 1);
}, 180_000);

afterAll(async () => {
  for (const relay of relays) relay.kill('SIGKILL');
  await nginx?.close();
  await control2?.close();
  await api2?.close();
  await cluster?.close();
  for (const host of [...hosts, controlHost, apiHost]) await host?.close();
}, 60_000);

interface Stage {
  modules: number;
  clients: number;
  robots: number;
  seconds: number;
  perSecond: number;
  cpu: CpuSpent;
}

it(
  '3 module hosts behind nginx share the work, lose nothing to SIGTERM, SIGKILL and a partition',
  async () => {
    const system = cluster as ChaosCluster;
    const balancer = nginx as NginxBalancer;
    const control2Process = control2 as RpaProcess;
    const api2Process = api2 as RpaProcess;
    // Clients know only nginx's address.
    const viaNginx = { ...system, apiUrls: [balancer.url] } as ChaosCluster;
    const all: CreatedRobot[] = [];

    const pids = (): Record<string, number | undefined> => ({
      nginx: balancer.pid,
      'api-1': system.apis[0]?.pid,
      'api-2': api2Process.pid,
      'control-1': system.control.pid,
      'control-2': control2Process.pid,
      'sdk module (chaos.record)': system.callModule.pid,
      ...Object.fromEntries(workers.map((worker, i) => [`module host ${i + 1}`, worker.pid])),
      // The servers too: on 2 cores, where the CPU goes is the question (Postgres is shared and
      // many processes: it is in the machine's busy time with the rest).
      'temporal server': system.temporalServer.process.pid,
      redis: system.redis.pid,
    });
    const stage = async (modules: number, clients: number): Promise<Stage> => {
      const stop = startCpuCount(pids());
      const from = Date.now();
      const robots = await createRobots(viaNginx, {
        count: size.throughputRobots,
        concurrency: clients,
        keyPrefix: `multi-host-throughput-${modules}-${clients}`,
        holdMs: 0,
      });
      await settle(system, robots, bySize({ short: 90_000, full: 600_000 }));
      const seconds = (Date.now() - from) / 1000;
      all.push(...robots);
      return {
        modules,
        clients,
        robots: robots.length,
        seconds: Math.round(seconds * 10) / 10,
        perSecond: Math.round((robots.length / seconds) * 100) / 100,
        cpu: stop(),
      };
    };

    const one = await stage(1, size.concurrency);
    startWorker(1);
    startWorker(2);
    await system.awaitReplicas(moduleA.name, HOSTS);
    const three = await stage(3, size.concurrency);
    // Twice the clients on the same 3 processes: where the machine, not the slots, is the ceiling.
    const threeBusier = await stage(3, 2 * size.concurrency);

    // Faults while robots stream in through nginx.
    const faults: string[] = [];
    const creating = createRobots(viaNginx, {
      count: size.chaosRobots,
      concurrency: size.concurrency,
      keyPrefix: 'multi-host-chaos',
      holdMs: size.holdMs,
      paceMs: 100,
    });
    await sleep(1500);
    await api2Process.stop();
    faults.push('api-2 SIGTERM');
    await system.control.kill9();
    faults.push('control-1 SIGKILL');
    // A module worker running a step, not on host 3: that one is partitioned (and, in user space,
    // the webhook forwarder cuts only host 3's connections).
    system.modules.set(moduleA.name, workers.slice(0, HOSTS - 1));
    const victim = await busyReplica(system, moduleA.name, 30_000);
    system.modules.set(moduleA.name, workers);
    const victimIndex = victim ? workers.indexOf(victim) : -1;
    if (!victim || victimIndex < 0) throw new Error('no module worker on hosts 1-2 ran a step to kill');
    await victim.kill9();
    faults.push(`module worker on host ${victimIndex + 1} SIGKILL`);
    const cut = hosts[HOSTS - 1] as IsolatedHost;
    const cutIndex = HOSTS;
    await cut.partition();
    faults.push(`module host ${cutIndex} partitioned ${size.partitionMs / 1000} s`);
    await sleep(1000);
    startWorker(victimIndex);
    await sleep(size.partitionMs - 1000);
    await cut.heal();
    const chaosRobots = await creating;
    all.push(...chaosRobots);
    await settle(system, all, bySize({ short: 120_000, full: 900_000 }));
    const verdict = await checkInvariants(system, all, { email: false });

    // Module steps (hold, hook) per module host, by the worker identity that completed each.
    const perHost: Record<string, number> = {};
    for (const { robotId } of all) {
      const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.activityTaskCompletedEventAttributes?.identity ?? '';
        const host = hostOfPid.get(Number(identity.split('@')[0]));
        if (host !== undefined) perHost[`host ${host}`] = (perHost[`host ${host}`] ?? 0) + 1;
      }
    }
    const figures = {
      mode: hosts[0]?.mode,
      one,
      three,
      threeBusier,
      perHost,
      faults,
      sinks: verdict.sinks,
      hit: verdict.hit,
    };
    console.log(`multi-host figures: ${JSON.stringify(figures, null, 2)}`);

    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicated).toEqual([]);
    expect(all).toHaveLength(3 * size.throughputRobots + size.chaosRobots);
    for (let host = 1; host <= HOSTS; host++) expect(perHost[`host ${host}`] ?? 0).toBeGreaterThan(0);
    expect(faults).toHaveLength(4);
    // Faults that reached no step prove nothing: some robots had a step retried.
    expect(verdict.hit).toBeGreaterThan(0);
    expect(api2Process.running).toBe(false);
    expect(system.control.running).toBe(false);
    // The restarted worker and the healed host are live replicas again.
    await system.awaitReplicas(moduleA.name, HOSTS);
    expect(workers.every((worker) => worker.running)).toBe(true);
    recordScenario(
      {
        scenario: 'multi-host: nginx, 2 APIs, 2 control, 3 module hosts',
        robots: all.length,
        faults: faults.length,
        lost: verdict.lost.length,
        duplicated: verdict.duplicated.length,
        recoveryMs: [],
        sinks: { ...verdict.sinks, ...perHost, 'robots hit': verdict.hit },
        note:
          `${hosts[0]?.mode}; ${faults.join(', ')}; module steps per host ${JSON.stringify(perHost)}; ` +
          `throughput ${one.perSecond}/s with 1 module process, ${three.perSecond}/s with 3, ` +
          `${threeBusier.perSecond}/s with 3 and ${threeBusier.clients} clients ` +
          `(cpu s ${[one, three, threeBusier].map((s) => `${JSON.stringify(s.cpu.processes)} machine ${s.cpu.machine} in ${s.seconds} s`).join(' | ')})`,
      },
      startedAt,
    );
  },
  bySize({ short: 240_000, full: 1_800_000 }),
);
