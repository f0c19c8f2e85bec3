import { readdir, readFile, readlink } from 'node:fs/promises';
import os from 'node:os';

// Which TCP connections a process holds, read from /proc as its owner may (no privileges): the
// socket inodes among /proc/<pid>/fd, looked up in the kernel's tables of the process's network
// namespace (/proc/<pid>/net/tcp, tcp6).

export interface TcpEndpoint {
  address: string;
  port: number;
}

export interface TcpConnection {
  local: TcpEndpoint;
  remote: TcpEndpoint;
  /** The kernel's state name (ESTABLISHED, LISTEN, …). */
  state: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

/** The table prints each 32-bit word of an address in host byte order. */
function words(hex: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word = Buffer.from(hex.slice(i, i + 8), 'hex');
    out.push(os.endianness() === 'LE' ? word.reverse() : word);
  }
  return out;
}

function endpoint(field: string): TcpEndpoint {
  const [hex = '', port = '0'] = field.split(':');
  const bytes = Buffer.concat(words(hex));
  let address: string;
  if (bytes.length === 4) address = [...bytes].join('.');
  else if (bytes.subarray(0, 12).equals(Buffer.from('00000000000000000000ffff', 'hex')))
    address = [...bytes.subarray(12)].join('.');
  else address = (bytes.toString('hex').match(/.{4}/g) ?? []).join(':');
  return { address, port: Number.parseInt(port, 16) };
}

async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const fds = await readdir(`/proc/${pid}/fd`);
  await Promise.all(
    fds.map(async (fd) => {
      // An fd closed between readdir and readlink is simply not there any more.
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    }),
  );
  return inodes;
}

/** The TCP sockets process `pid` has open (IPv4 and IPv6), as its network namespace sees them. */
export async function tcpConnectionsOf(pid: number): Promise<TcpConnection[]> {
  const inodes = await socketInodes(pid);
  const connections: TcpConnection[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, remote, state] = fields;
      if (!local || !remote || !state || !inodes.has(fields[9] ?? '')) continue;
      connections.push({ local: endpoint(local), remote: endpoint(remote), state: STATES[state] ?? state });
    }
  }
  return connections;
}
