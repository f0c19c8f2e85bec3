import os from 'node:os';
import { auditActor } from '../core/domain/audit-actor';

/** The audit log's actor for a CLI command that changes the database: `cli:<os user>@<host>`. */
export function cliActor(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // A container user without a passwd entry: the environment's name, else the uid.
    user = process.env.USER ?? process.env.LOGNAME ?? `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return auditActor.cli(user, os.hostname());
}
