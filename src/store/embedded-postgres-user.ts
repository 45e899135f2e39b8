/**
 * Running the embedded PostgreSQL as root (containers, CI): PostgreSQL refuses to, so it runs as
 * the `postgres` OS user, which must be able to reach its binaries and `DATA_DIR`
 * (DECISIONS.md §9).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** The OS user and group the cluster runs as. */
export interface RunAs { uid: number; gid: number }

const SUPERUSER = 'postgres';
const execFileAsync = promisify(execFile);

/**
 * PostgreSQL refuses to run as root: when we are root it runs as the `postgres` OS user, created
 * here if missing (with the commands the package would use, but before `initdb`, because the paths
 * must be made reachable for that user first).
 */
export async function resolveRunAs(log: (msg: string) => void): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookUp = async () => ({
    uid: Number((await execFileAsync('id', ['-u', SUPERUSER])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', SUPERUSER])).stdout.trim()),
  });
  try {
    return await lookUp();
  } catch {
    log(`creating the "${SUPERUSER}" OS user to run the embedded PostgreSQL (it refuses to run as root)`);
    await execFileAsync('groupadd', ['--system', SUPERUSER]).catch(() => undefined);
    await execFileAsync('useradd', ['--system', '-g', SUPERUSER, '--no-create-home', '--shell', '/usr/sbin/nologin', SUPERUSER]);
    return lookUp();
  }
}

/**
 * Lets the `postgres` user traverse to the data dir and to the binaries. A clone under `/root`
 * (mode 0700) is otherwise out of its reach. We add only the search bit (x, not read; for
 * root-owned directories that is o+x) to the directories on those paths that lack it: the least
 * change that works wherever the repo and `DATA_DIR` live (copying 60 MB of binaries elsewhere
 * would still leave `DATA_DIR` unreachable). Each change is logged.
 */
export async function makeReachable(targets: string[], runAs: RunAs, log: (msg: string) => void): Promise<void> {
  const dirs = new Set<string>();
  for (const target of targets) {
    for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
      dirs.add(dir);
      if (dir === path.dirname(dir)) break;
    }
  }
  for (const dir of dirs) {
    const stat = await fs.stat(dir);
    // The permission class that applies to the postgres user: owner, group, or others.
    const [bit, symbol] = stat.uid === runAs.uid ? [0o100, 'u+x'] : stat.gid === runAs.gid ? [0o010, 'g+x'] : [0o001, 'o+x'];
    if ((stat.mode & bit) !== 0) continue;
    await fs.chmod(dir, (stat.mode & 0o7777) | bit);
    log(`chmod ${symbol} ${dir}: the "${SUPERUSER}" user must traverse it to reach the embedded PostgreSQL`);
  }
}
