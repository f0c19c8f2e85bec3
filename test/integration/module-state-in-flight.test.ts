import { ModuleRegistry } from '../../api/module-registry';
import { ANY_TYPE } from '../../core/domain/load-balancer';
import type { ModuleStateStore, ReplicaInfo } from '../../core/domain/module-state';
import { builtInDeclaration } from '../../core/domain/step-declarations';
import { BUILT_IN_STEPS_VERSION } from '../../core/domain/step-kinds';
import { PostgresModuleStateStore } from '../../db/module-state.postgres';
import { startTestSystem, type TestSystem } from '../support/test-system';

// setInFlight, on both module state stores: the replica's own count, as is (ADR 0040).

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  // Registered, as a module worker does at start (module_replicas rows reference the registry).
  await new ModuleRegistry(system.moduleStores).register(
    {
      name: 'counted',
      version: BUILT_IN_STEPS_VERSION,
      capacity: 8,
      supportedRobotTypes: [ANY_TYPE],
      steps: [builtInDeclaration('noop')],
    },
    {},
  );
});

afterAll(async () => {
  await system?.close();
});

const replica = (replicaId: string): ReplicaInfo => ({
  moduleName: 'counted',
  replicaId,
  capacity: 4,
  host: 'h',
  pid: 1,
  startedAt: new Date(0).toISOString(),
});

describe.each([
  ['Redis', () => system.moduleStores.state],
  ['Postgres', () => new PostgresModuleStateStore(system.database.db)],
])('%s module state store', (_name, store: () => ModuleStateStore) => {
  it('sets each replica its own count, which a heartbeat without one keeps and removal drops', async () => {
    const state = store();
    const now = Date.now();
    await state.heartbeat(replica('a'), 60, now);
    await state.heartbeat(replica('b'), 60, now);
    await state.setInFlight('counted', 'a', 3);
    await state.setInFlight('counted', 'b', 1);
    await state.setInFlight('counted', 'a', 2); // a later count replaces, never adds
    let live = (await state.snapshot(now)).get('counted');
    expect(live?.inFlight).toBe(3);
    expect(Object.fromEntries((live?.replicas ?? []).map((r) => [r.replicaId, r.inFlight]))).toEqual({
      a: 2,
      b: 1,
    });

    await state.heartbeat(replica('a'), 60, now);
    live = (await state.snapshot(now)).get('counted');
    expect(live?.replicas.find((r) => r.replicaId === 'a')?.inFlight).toBe(2);

    await state.removeReplica('counted', 'a');
    await state.removeReplica('counted', 'b');
    expect((await state.snapshot(now)).get('counted')).toBeUndefined();
  });
});
