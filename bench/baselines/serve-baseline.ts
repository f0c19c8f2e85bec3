import type http from 'node:http';

/** What the bench's spawnBaseline waits for: the loopback port the baseline listens on. */
export interface BaselineListening {
  type: 'listening';
  port: number;
}

/**
 * Listens on a free loopback port and tells the parent which, over the IPC channel; stops on SIGTERM
 * or when the parent is gone (the channel closes), so that a bench killed outright leaves no server.
 */
export function serveBaseline(server: http.Server, close: () => void = () => undefined): void {
  const stop = () => {
    server.closeAllConnections();
    server.close(() => {
      close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.send?.({ type: 'listening', port } satisfies BaselineListening);
  });
}
