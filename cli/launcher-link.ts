// An API or worker that `rpa start` spawned has an IPC channel to it (see child-processes.ts); run by
// hand, it has none and these do nothing.

/**
 * Stops this process (as SIGTERM does: gracefully) when the launcher is gone. The launcher runs its
 * children in their own process group, so a Ctrl-C reaches only the launcher, which stops them in
 * order; if the launcher itself is killed outright, this is what keeps them from living on, holding
 * the port and the embedded database's connections.
 */
export function joinLauncher(): void {
  if (!process.send || !process.channel) return;
  // The channel must not keep a process alive whose work is done.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** Tells the launcher this process serves: the event it waits for instead of polling. */
export function reportReady(): void {
  process.send?.({ type: 'ready' });
}

export function isReadyMessage(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';
}
