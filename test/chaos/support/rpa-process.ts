import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

const rpa = path.join(__dirname, '..', '..', '..', 'bin', 'rpa');

/**
 * One role of the system (`rpa api`, `rpa worker …`, `rpa modules start …`) as a real process that a
 * scenario kills for real (SIGKILL), pauses (SIGSTOP) and starts again with the same settings. Its
 * output goes to a log file a failed scenario can be diagnosed from.
 */
export class RpaProcess {
  private child: ChildProcess | null = null;
  private tail = '';
  /** Output since the latest start (what `printed` looks in). */
  private current = '';
  private log: WriteStream;
  starts = 0;

  constructor(
    readonly label: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    logDir: string,
    /** A command the process runs under, e.g. `ip netns exec <ns>` for a host of its own. */
    private readonly prefix: string[] = [],
  ) {
    mkdirSync(logDir, { recursive: true });
    this.log = createWriteStream(path.join(logDir, `${label}.log`), { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): this {
    if (this.running) throw new Error(`${this.label} is already running`);
    const [command, ...args] = [...this.prefix, process.execPath, rpa, ...this.args];
    const child = spawn(command ?? process.execPath, args, {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts += 1;
    this.log.write(`\n--- start ${this.starts} (pid ${child.pid}) at ${new Date().toISOString()}\n`);
    this.current = '';
    const append = (chunk: Buffer) => {
      this.log.write(chunk);
      this.tail = (this.tail + chunk.toString()).slice(-20_000);
      this.current = (this.current + chunk.toString()).slice(-200_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.child = child;
    return this;
  }

  /** The last output, for error messages. */
  output(): string {
    return this.tail;
  }

  /** Resolves once the output since the latest start holds `text`. */
  async printed(text: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.current.includes(text)) {
      if (!this.running) throw new Error(`${this.label} exited before printing "${text}":\n${this.tail}`);
      if (Date.now() > deadline)
        throw new Error(`${this.label} did not print "${text}" in time:\n${this.tail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: no shutdown, no deregistration — a crash. */
  async kill9(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /** SIGTERM, then SIGKILL if it has not stopped in time. */
  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async close(): Promise<void> {
    if (this.running) {
      this.resume();
      await this.kill9();
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
