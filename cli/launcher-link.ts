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

/**
 * Resolves when the launcher says the services this process connects to (Temporal, the database)
 * are up; at once without a launcher. The launcher starts its API and workers while those are still
 * starting, so that loading their code — most of a process's start-up — overlaps with that: a
 * process loads its code, says so, and waits here before it connects anywhere.
 */
export async function launcherGoAhead(): Promise<void> {
  const channel = process.channel;
  if (!process.send || !channel) return;
  // Waiting for a message is the only thing keeping the process alive now.
  channel.ref();
  try {
    await new Promise<void>((resolve) => {
      const onMessage = (message: unknown) => {
        if (!isMessage(message, 'go-ahead')) return;
        process.off('message', onMessage);
        resolve();
      };
      process.on('message', onMessage);
      process.send?.({ type: 'loaded' });
    });
  } finally {
    channel.unref();
  }
}

/** Tells the launcher this process serves: the event it waits for instead of polling. */
export function reportReady(): void {
  process.send?.({ type: 'ready' });
}

export type LauncherMessage = 'loaded' | 'go-ahead' | 'ready';

export function isMessage(message: unknown, type: LauncherMessage): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

export function sendGoAhead(child: {
  connected: boolean;
  send(message: unknown, callback: () => void): void;
}) {
  // The child may be gone meanwhile; then there is nobody to tell.
  if (child.connected) child.send({ type: 'go-ahead' }, () => undefined);
}
