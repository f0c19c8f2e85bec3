import type { Request, Response } from 'express';
import { isTerminal, type RobotView } from '../core/domain/robot';
import type { RobotEvents } from '../core/domain/robot-events';
import type { ShutdownDrain } from './shutdown-drain';

export interface RobotStreamOptions {
  robotId: string;
  events: RobotEvents;
  /** Current state of the robot (cache → Postgres → Temporal). */
  read(): Promise<RobotView>;
  present(robot: RobotView): unknown;
  /** Safety poll: pub/sub is fire-and-forget, so a missed message is caught up within this time. */
  pollMs: number;
  keepAliveMs?: number;
  /** On shutdown the stream ends with a `retry:` hint, so the client reconnects elsewhere. */
  drain?: ShutdownDrain;
}

/**
 * Server-Sent Events of one robot: its current state at once, then every update in order (Redis
 * pub/sub, plus a slow poll that catches anything pub/sub dropped, or a fast one without Redis).
 * Updates carry the workflow's `sequence`: duplicates are dropped and the SSE id lets a client see
 * gaps. The stream ends with `event: end` when the robot finishes, or with `event: shutdown` and a
 * `retry:` hint when the API process stops (the client's EventSource then reconnects, resuming after
 * its Last-Event-ID's state since the first message is the robot's current state).
 */
export async function streamRobot(req: Request, res: Response, options: RobotStreamOptions): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let lastSequence = -1;
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: () => Promise<void> = async () => undefined;
  let release: () => void = () => undefined;

  const finish = () => {
    if (closed) return;
    closed = true;
    release();
    for (const timer of timers) clearInterval(timer);
    void unsubscribe();
    res.end();
  };
  if (options.drain) {
    release = options.drain.holdStream((retryMs) => {
      if (closed) return;
      res.write(`retry: ${retryMs}\nevent: shutdown\ndata: {}\n\n`);
      finish();
    });
  }
  const send = (robot: RobotView) => {
    const sequence = robot.progress?.sequence ?? 0;
    if (closed || sequence <= lastSequence) return;
    lastSequence = sequence;
    res.write(`id: ${sequence}\nevent: robot\ndata: ${JSON.stringify(options.present(robot))}\n\n`);
    if (isTerminal(robot.status)) {
      res.write('event: end\ndata: {}\n\n');
      finish();
    }
  };
  const refresh = () => {
    options.read().then(send, () => undefined);
  };

  req.on('close', finish);
  // Subscribe before the first read so no update falls between the two.
  unsubscribe = await options.events.subscribe(options.robotId, send);
  send(await options.read());
  if (closed) return;
  timers.push(setInterval(refresh, options.pollMs));
  timers.push(setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000));
}
