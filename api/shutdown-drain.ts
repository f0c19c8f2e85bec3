/**
 * What a SIGTERM starts in the API before the server stops: readiness answers 503 at once, so a load
 * balancer stops sending new requests, and every open event stream ends with an SSE `retry:` hint, so
 * its client reconnects (to another replica) instead of holding the shutdown until the kill.
 */
export class ShutdownDrain {
  private draining = false;
  private readonly streams = new Set<(retryMs: number) => void>();

  get active(): boolean {
    return this.draining;
  }

  /** Registers an open stream's closer; the returned function releases it when the stream ends. */
  holdStream(close: (retryMs: number) => void): () => void {
    this.streams.add(close);
    return () => this.streams.delete(close);
  }

  /** Starts draining; returns how many open streams were told to reconnect. */
  start(retryMs: number): number {
    this.draining = true;
    const open = [...this.streams];
    this.streams.clear();
    for (const close of open) close(retryMs);
    return open.length;
  }
}
