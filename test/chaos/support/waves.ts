import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster } from './cluster';
import { type CreatedRobot, createRobots } from './workload';

// Clients that keep arriving: `createRobots` asks for all its robots at once, as fast as the API
// answers, so an outage that begins a few seconds in would meet no client at all. Here a wave of
// robots is asked for every `everyMs`, whether or not earlier waves were answered yet, so clients
// keep arriving (and retrying) all through an outage, as real ones would.

export interface WaveOptions {
  waves: number;
  perWave: number;
  everyMs: number;
  keyPrefix: string;
  holdMs: number;
  giveUpMs?: number;
  /** Called with the time each robot's creation was answered. */
  onCreated?: (created: CreatedRobot, at: number) => void;
}

export interface Waves {
  /** Every robot created, once all waves were answered. */
  robots: Promise<CreatedRobot[]>;
  /** Robots answered so far. */
  created(): number;
}

export function createRobotsInWaves(cluster: ChaosCluster, options: WaveOptions): Waves {
  let created = 0;
  const asked: Promise<CreatedRobot[]>[] = [];
  const robots = (async () => {
    for (let wave = 0; wave < options.waves; wave++) {
      if (wave > 0) await sleep(options.everyMs);
      asked.push(
        createRobots(cluster, {
          count: options.perWave,
          concurrency: options.perWave,
          keyPrefix: `${options.keyPrefix}-w${wave}`,
          holdMs: options.holdMs,
          ...(options.giveUpMs ? { giveUpMs: options.giveUpMs } : {}),
          onCreated: (robot) => {
            created += 1;
            options.onCreated?.(robot, Date.now());
          },
        }),
      );
    }
    return (await Promise.all(asked)).flat();
  })();
  return { robots, created: () => created };
}
