import type Redis from 'ioredis';
import {
  decodeRoutingChange,
  ROUTING_HASHES,
  type RoutingChange,
} from '../core/adapters/redis/routing-changes.redis';
import {
  type CircuitState,
  decideSelection,
  type ModuleSnapshot,
  type PreparedSelection,
  prepareSelection,
  type RoutingDecision,
  reprepareSelection,
  type SelectionRequest,
} from '../core/domain/load-balancer';
import type { LoadBalancerWeights } from '../core/domain/load-balancer-weights';
import { liveStates, type StoredReplica } from '../core/domain/module-state';
import type { PerformanceStats } from '../core/domain/performance';
import { moduleSnapshotOf } from './module-snapshots';
import type { ModuleRoute } from './modules.repository';

// The control worker's in-process copy of the routing state (ADR 0041). It reads the hashes in full
// once, then follows the routing change feed (every write is published with its new value) instead
// of reading per selection; a full read every `refreshMs`, and after every reconnection of its
// subscriber, covers what it could have missed. Time-bound facts (a replica's expiry, an open
// circuit turning half-open) are judged at each call, so they are exact whatever the feed does.

/** Where the snapshot reads from and listens to: the module stores' Redis adapters. */
export interface RoutingSources {
  routes(now: number): Promise<ModuleRoute[]>;
  replicas(): Promise<{ replicas: Map<string, StoredReplica>; inFlight: Map<string, number> }>;
  circuits(): Promise<Map<string, unknown>>;
  circuitState(stored: unknown, now: number): CircuitState;
  circuitChangesAt(stored: unknown): number | null;
  performance(): Promise<Map<string, PerformanceStats>>;
  /** A new client of its own (a subscribing connection can do nothing else). */
  subscriber(): Redis;
  channel: string;
}

export interface RoutingSnapshotOptions {
  /** Full read period: the bound on staleness from a write that was not published. */
  refreshMs: number;
}

interface Raw {
  routes: ModuleRoute[];
  replicas: Map<string, StoredReplica>;
  inFlight: Map<string, number>;
  circuits: Map<string, unknown>;
  performance: Map<string, PerformanceStats>;
}

/** One module's part of the snapshot, with the time it must be judged again even if nothing is published. */
interface Derived {
  module: ModuleSnapshot;
  validUntil: number;
}

// A snapshot whose last full read is older than this many periods (Redis answers the subscriber but
// not the reads) is not trusted: selection reads per call, as without a snapshot.
const STALE_AFTER_PERIODS = 3;
// Distinct (robot type, steps) requests kept prepared; more means an unusual caller: start over.
const MAX_PREPARED = 512;
// Past this many changed modules at once, preparing again from scratch is as cheap as moving each.
const REPREPARE_AT_MOST = 32;

export class RoutingSnapshot {
  private raw: Raw | null = null;
  /** Replica fields of each module, to judge one module without walking every replica. */
  private fieldsOf = new Map<string, Set<string>>();
  private derived = new Map<string, Derived>();
  private routeOf = new Map<string, ModuleRoute>();
  /** Modules in registry order: the order selection sees them in, as without a snapshot. */
  private modules: ModuleSnapshot[] = [];
  private dirty = new Set<string>();
  private allDirty = true;
  private nextDeadline = Number.POSITIVE_INFINITY;
  private targetLatencyMs = Number.NaN;
  private prepared = new Map<string, PreparedSelection>();
  private preparedWeights: LoadBalancerWeights | null = null;

  private subscriber: Redis | null = null;
  private started: Promise<void> | null = null;
  private subscribed = false;
  private lastFullReadAt = 0;
  /** Messages that arrive during a full read, applied on top of it (each carries a final value). */
  private buffer: RoutingChange[] | null = null;
  private fullNeeded = false;
  private routesNeeded = false;
  /** Routing table invalidations received, and how many of them a finished read covers. */
  private routesAsked = 0;
  private routesCovered = 0;
  private syncing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Published changes applied, for tests and benches that wait for one to arrive. */
  applied = 0;

  constructor(
    private readonly sources: RoutingSources,
    private readonly options: RoutingSnapshotOptions,
  ) {}

  /**
   * The decision for a request from the snapshot, with only the first `limit` candidates built; null
   * when the snapshot cannot be trusted now (not yet read, subscriber disconnected, full reads
   * failing): the caller then reads the stores itself. Waits for a routing table read that an
   * invalidation started, so a registry change (a drain, a registration) applies to the next decision.
   */
  async decide(
    request: SelectionRequest,
    weights: LoadBalancerWeights,
    targetLatencyMs: number,
    now: number,
    limit: number,
  ): Promise<(RoutingDecision & { candidatesTotal: number }) | null> {
    if (this.closed) return null;
    this.started ??= this.start();
    await this.started;
    while (this.routesCovered < this.routesAsked && this.syncing && !this.closed) await this.syncing;
    if (!this.trusted(now)) return null;
    this.judge(now, targetLatencyMs);
    return decideSelection(this.preparedFor(request, weights), request, limit);
  }

  /** Resolves once a full read has been made (or failed); decide() calls it on first use. */
  async start(): Promise<void> {
    this.started ??= this.connect();
    return this.started;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.subscriber?.disconnect();
    await this.syncing?.catch(() => undefined);
  }

  private trusted(now: number): boolean {
    return (
      this.raw !== null &&
      this.subscribed &&
      now - this.lastFullReadAt <= this.options.refreshMs * STALE_AFTER_PERIODS
    );
  }

  private async connect(): Promise<void> {
    const subscriber = this.sources.subscriber();
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
    // Whatever was published while the connection was down is lost: distrust until a full read.
    subscriber.on('close', () => {
      this.subscribed = false;
    });
    let first = true;
    subscriber.on('ready', () => {
      // The first 'ready' is followed by connect()'s own read. After a reconnection ioredis
      // subscribes again by itself; subscribing here too (a no-op then) tells when it is done, and
      // only then can a full read miss nothing.
      if (first || this.closed) return;
      subscriber
        .subscribe(this.sources.channel)
        .then(() => {
          this.subscribed = true;
          this.requestFull();
        })
        .catch(() => undefined);
    });
    try {
      await subscriber.subscribe(this.sources.channel);
      this.subscribed = true;
    } catch {
      // Redis away at start: stay untrusted; ioredis reconnects and 'ready' asks for a full read.
    }
    first = false;
    this.timer = setInterval(() => this.requestFull(), this.options.refreshMs);
    this.timer.unref();
    this.requestFull();
    await this.syncing;
  }

  private requestFull(): void {
    this.fullNeeded = true;
    this.sync();
  }

  private sync(): void {
    if (this.syncing || this.closed) return;
    this.syncing = (async () => {
      while ((this.fullNeeded || this.routesNeeded) && !this.closed) {
        if (this.fullNeeded) {
          this.fullNeeded = false;
          this.routesNeeded = false;
          await this.fullRead().catch(() => undefined);
        } else {
          this.routesNeeded = false;
          await this.readRoutes().catch(() => undefined);
        }
      }
    })().finally(() => {
      this.syncing = null;
    });
  }

  private async fullRead(): Promise<void> {
    this.buffer = [];
    const startedAt = Date.now();
    const asked = this.routesAsked;
    try {
      const [routes, live, circuits, performance] = await Promise.all([
        this.sources.routes(startedAt),
        this.sources.replicas(),
        this.sources.circuits(),
        this.sources.performance(),
      ]);
      this.raw = { routes, ...live, circuits, performance };
      this.fieldsOf = new Map();
      for (const [field, replica] of live.replicas) this.addField(replica.moduleName, field);
      this.lastFullReadAt = startedAt;
      this.routesCovered = asked;
    } finally {
      const buffered = this.buffer;
      this.buffer = null;
      for (const change of buffered) this.apply(change);
      this.allDirty = true;
    }
  }

  private async readRoutes(): Promise<void> {
    const asked = this.routesAsked;
    const routes = await this.sources.routes(Date.now());
    this.routesCovered = asked;
    if (!this.raw) return;
    this.raw.routes = routes;
    this.allDirty = true;
  }

  private onMessage(message: string): void {
    const change = decodeRoutingChange(message);
    if (!change) return;
    // An invalidation carries no value: counted at once, so a selection during a full read waits too.
    if (change[0] === ROUTING_HASHES.routing) {
      this.routesAsked += 1;
      this.routesNeeded = true;
      this.sync();
    } else if (this.buffer) this.buffer.push(change);
    else this.apply(change);
  }

  private apply(change: RoutingChange): void {
    const raw = this.raw;
    if (!raw) return;
    this.applied += 1;
    const [hash, field, value] = change;
    switch (hash) {
      case ROUTING_HASHES.replicas: {
        const before = raw.replicas.get(field);
        if (value === null) {
          raw.replicas.delete(field);
          if (before) this.fieldsOf.get(before.moduleName)?.delete(field);
        } else {
          const replica = JSON.parse(value) as StoredReplica;
          raw.replicas.set(field, replica);
          this.addField(replica.moduleName, field);
        }
        if (before) this.dirty.add(before.moduleName);
        return;
      }
      case ROUTING_HASHES.inFlight: {
        if (value === null) raw.inFlight.delete(field);
        else raw.inFlight.set(field, Number(value));
        const replica = raw.replicas.get(field);
        if (replica) this.dirty.add(replica.moduleName);
        return;
      }
      case ROUTING_HASHES.circuits:
        if (value === null) raw.circuits.delete(field);
        else raw.circuits.set(field, JSON.parse(value));
        this.dirty.add(field);
        return;
      case ROUTING_HASHES.performance:
        if (value === null) raw.performance.delete(field);
        else raw.performance.set(field, JSON.parse(value) as PerformanceStats);
        this.dirty.add(field);
        return;
      default:
        return;
    }
  }

  private addField(moduleName: string, field: string): void {
    let fields = this.fieldsOf.get(moduleName);
    if (!fields) {
      fields = new Set();
      this.fieldsOf.set(moduleName, fields);
    }
    fields.add(field);
    this.dirty.add(moduleName);
  }

  /** Brings the module snapshots up to `now`: what was published, and what time alone changed. */
  private judge(now: number, targetLatencyMs: number): void {
    const raw = this.raw;
    if (!raw) return;
    if (targetLatencyMs !== this.targetLatencyMs) {
      this.targetLatencyMs = targetLatencyMs;
      this.allDirty = true;
    }
    if (this.allDirty) {
      this.allDirty = false;
      this.dirty.clear();
      this.routeOf = new Map(raw.routes.map((route) => [route.name, route]));
      this.derived = new Map(raw.routes.map((route) => [route.name, this.derive(route, now)]));
      this.modules = raw.routes.map((route) => (this.derived.get(route.name) as Derived).module);
      this.afterChange(now);
      return;
    }
    if (now >= this.nextDeadline)
      for (const [name, entry] of this.derived) if (entry.validUntil <= now) this.dirty.add(name);
    if (this.dirty.size === 0) return;
    const changed: ModuleSnapshot[] = [];
    for (const name of this.dirty) {
      const before = this.derived.get(name);
      const route = this.routeOf.get(name);
      if (!before || !route) continue;
      const after = this.derive(route, now);
      this.derived.set(name, after);
      if (!sameModule(before.module, after.module)) changed.push(after.module);
    }
    this.dirty.clear();
    if (changed.length > 0)
      this.modules = raw.routes.map((route) => (this.derived.get(route.name) as Derived).module);
    this.afterChange(now, changed);
  }

  /** `changed`: the modules whose facts changed, or null when everything must be prepared again. */
  private afterChange(now: number, changed: readonly ModuleSnapshot[] | null = null): void {
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.derived.values()) if (entry.validUntil < next) next = entry.validUntil;
    this.nextDeadline = Math.max(next, now + 1);
    if (changed === null || changed.length > REPREPARE_AT_MOST) this.prepared.clear();
    else if (changed.length > 0)
      for (const [key, prepared] of this.prepared)
        this.prepared.set(key, reprepareSelection(prepared, changed));
  }

  private derive(route: ModuleRoute, now: number): Derived {
    const raw = this.raw as Raw;
    const fields = this.fieldsOf.get(route.name) ?? new Set<string>();
    const mine: [string, StoredReplica][] = [];
    let validUntil = Number.POSITIVE_INFINITY;
    for (const field of fields) {
      const replica = raw.replicas.get(field);
      if (!replica) continue;
      mine.push([field, replica]);
      if (replica.expiresAt > now && replica.expiresAt < validUntil) validUntil = replica.expiresAt;
    }
    const state = liveStates(mine, (field) => raw.inFlight.get(field) ?? 0, now).get(route.name);
    const stored = raw.circuits.get(route.name);
    const changesAt = stored === undefined ? null : this.sources.circuitChangesAt(stored);
    if (changesAt !== null && changesAt > now && changesAt < validUntil) validUntil = changesAt;
    const circuit = stored === undefined ? 'closed' : this.sources.circuitState(stored, now);
    const stats = raw.performance.get(route.name);
    return { module: moduleSnapshotOf(route, state, circuit, stats, this.targetLatencyMs), validUntil };
  }

  private preparedFor(request: SelectionRequest, weights: LoadBalancerWeights): PreparedSelection {
    if (this.preparedWeights === null || !sameWeights(this.preparedWeights, weights)) {
      this.prepared.clear();
      this.preparedWeights = { ...weights };
    }
    // The steps' order is kept in the key: it is the order a "missing steps" reason names them in.
    const key = `${request.robotType}\u0000${request.steps.join('\u0000')}`;
    let prepared = this.prepared.get(key);
    if (!prepared) {
      if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
      prepared = prepareSelection(this.modules, request, weights);
      this.prepared.set(key, prepared);
    }
    return prepared;
  }
}

function sameWeights(a: LoadBalancerWeights, b: LoadBalancerWeights): boolean {
  return (
    a.performance === b.performance &&
    a.capacity === b.capacity &&
    a.health === b.health &&
    a.typeMatch === b.typeMatch
  );
}

// The type and step lists come from the same route object, so comparing them by reference is enough.
function sameModule(a: ModuleSnapshot, b: ModuleSnapshot): boolean {
  return (
    a.isActive === b.isActive &&
    a.draining === b.draining &&
    a.healthStatus === b.healthStatus &&
    a.liveReplicas === b.liveReplicas &&
    a.capacity === b.capacity &&
    a.inFlight === b.inFlight &&
    a.performanceScore === b.performanceScore &&
    a.errorRate === b.errorRate &&
    a.circuit === b.circuit &&
    a.supportedRobotTypes === b.supportedRobotTypes &&
    a.supportedSteps === b.supportedSteps
  );
}
