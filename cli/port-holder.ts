import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port that a server we are about to start needs is held by another process. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly holder: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves when nothing listens on host:port (it binds it for a moment), else PortInUseError. */
export function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') {
        reject(err);
        return;
      }
      const holder = portHolder(port);
      reject(
        new PortInUseError(
          port,
          holder,
          [
            `port ${port} (${what}) is already in use${holder ? ` by ${holder}` : ''}.`,
            'A server this process did not start is not used in its place (it may be an orphan of an aborted run, and die mid-run).',
            `Find it with \`ss -ltnp 'sport = :${port}'\` (or \`fuser ${port}/tcp\`), stop it (\`kill <pid>\`), or choose another port.`,
          ].join('\n'),
        ),
      );
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * "pid N: its command line" of the process listening on the TCP port, read from /proc (Linux); null
 * where that is not possible (another OS, another user's process): the message then names the port only.
 */
export function portHolder(port: number): string | null {
  try {
    const inodes = listeningInodes(port);
    if (inodes.size === 0) return null;
    for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // gone meanwhile, or not ours to read
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) {
          const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
          return `pid ${pid}: ${command}`;
        }
      }
    }
  } catch {
    // best effort: the error names the port and how to find its holder anyway
  }
  return null;
}

/** The socket inodes listening on the port, from /proc/net/tcp and tcp6 (state 0A is LISTEN). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}
