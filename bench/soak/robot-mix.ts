import type { ChaosCluster } from '../../test/chaos/support/cluster';
import { CHAOS_TYPE, chaosRobotType } from '../../test/chaos/support/workload';

// The soak's robots: one in two of the chaos type (a hold, the SDK module's custom step, a webhook
// and an email: every kind of side effect, each counted at its sink), one in four waiting at an
// approval step that the answerer approves through the API, one in four plain (noop, transform).

export type RobotKind = 'chaos' | 'approval' | 'plain';

export const ROBOT_TYPES: Record<RobotKind, string> = {
  chaos: CHAOS_TYPE,
  approval: 'soak-approval',
  plain: 'soak-plain',
};

const MIX: RobotKind[] = ['chaos', 'approval', 'chaos', 'plain'];

export function kindOf(index: number): RobotKind {
  return MIX[index % MIX.length] ?? 'plain';
}

export function robotBody(index: number, holdMs: number): { type: string; input: Record<string, unknown> } {
  return {
    type: ROBOT_TYPES[kindOf(index)],
    input: { holdMs, n: index, note: `soak robot ${index} of the mixed load` },
  };
}

const summarize = { name: 'summarize', kind: 'transform', params: { fields: ['note'] } };

const types = [
  {
    name: ROBOT_TYPES.approval,
    description: 'soak: a hold, an approval the answerer approves, a summary',
    steps: [
      { name: 'hold', kind: 'noop' },
      // Long enough never to escalate in a run: the answerer decides within seconds.
      { name: 'review', kind: 'approval', params: { timeout: '2h', escalationTimeout: '2h' } },
      summarize,
    ],
  },
  {
    name: ROBOT_TYPES.plain,
    description: 'soak: a hold and a summary',
    steps: [{ name: 'hold', kind: 'noop' }, summarize],
  },
];

export async function registerRobotTypes(cluster: ChaosCluster): Promise<void> {
  for (const type of [chaosRobotType(cluster, { email: true }), ...types]) {
    const res = await cluster.api('/v1/robot-types', { method: 'POST', json: type });
    if (res.status !== 201)
      throw new Error(`robot type ${type.name} refused: ${res.status} ${await res.text()}`);
  }
}
