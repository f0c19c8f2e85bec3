import { type ChildExit, type ManagedChild, stopChild, tailOf } from '../child-processes';
import { afterCrash, describeRestart, type RestartPolicy, seconds } from './restart-policy';

export interface SupervisedChild {
  /** As in file names: `control-worker`. */
  name: string;
  /** As in sentences: `control worker`. */
  label: string;
  spawn(): ManagedChild;
}

export interface SupervisorEvents {
  /** A line for the terminal: a crash and its restart, or a restarted child serving again. */
  log(line: string): void;
  /** The launcher must stop: a child failed its first start, or kept crashing. */
  fail(message: string): void;
}

function exitReason({ code, signal }: ChildExit): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

/**
 * Keeps the API and the workers of `rpa start` running. A child that dies before it first served is
 * a failed start (a port taken, a bad setting): restarting would repeat it slowly, so the launcher
 * stops. Once it has served, a death is a crash: the child is restarted with backoff while the
 * others keep running, until the policy says it keeps crashing and the launcher gives up.
 */
export class Supervisor {
  private readonly current = new Map<string, ManagedChild>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly policy: RestartPolicy,
    private readonly events: SupervisorEvents,
  ) {}

  /** The running instance of each child. */
  get children(): ManagedChild[] {
    return [...this.current.values()];
  }

  add(child: SupervisedChild): void {
    this.run(child, [], false);
  }

  /** Cancels pending restarts and stops every child. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.children.map((child) => stopChild(child)));
  }

  private run(child: SupervisedChild, crashes: number[], restarted: boolean): void {
    const instance = child.spawn();
    this.current.set(child.name, instance);
    let served = restarted;
    instance.ready.then(
      () => {
        served = true;
        if (restarted && !this.stopping) {
          this.events.log(`✓ ${child.label} restarted (pid ${instance.process.pid})`);
        }
      },
      () => undefined,
    );
    void instance.exited.then((exit) => {
      if (exit.stopped || this.stopping) return;
      if (!served) {
        this.events.fail(
          `${child.name} exited (${exitReason(exit)}); last lines of ${instance.logFile}:\n${tailOf(instance.logFile)}`,
        );
        return;
      }
      const now = Date.now();
      const history = [...crashes, now].filter((at) => now - at < this.policy.windowMs);
      const decision = afterCrash(history, now, this.policy);
      if (decision.giveUp) {
        this.events.fail(
          `${child.label} exited ${decision.crashes} times in ${seconds(this.policy.windowMs)}; giving up (last exit: ${exitReason(exit)}); last lines of ${instance.logFile}:\n${tailOf(instance.logFile)}`,
        );
        return;
      }
      this.events.log(
        `! ${child.label} exited (${exitReason(exit)}); ${describeRestart(decision, this.policy)}`,
      );
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopping) this.run(child, history, true);
      }, decision.delayMs);
      this.timers.add(timer);
    });
  }
}
