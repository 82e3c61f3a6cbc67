// One `lab up` or `lab down` at a time per lab directory. DIR/lab.lock is created with O_EXCL and names its holder
// (pid, the process's start time, the operation). Whoever finds it held waits, polling, up to a timeout; a lock whose
// holder is gone (no such pid, or a pid reused by another process) is taken over, with a note in the log.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { labFiles } from './paths.js';
import { processStartTime } from './processes.js';

export interface LockHolder {
  pid: number;
  /** Start time of the process (field 22 of /proc/<pid>/stat), so that a reused pid is not taken for the holder. */
  start: string;
  op: string;
  since: string;
  /** Unique per acquisition (two calls in one process share the pid). */
  token: string;
}

/** Default wait for a busy lab directory: a `lab up` of the seed's ten hosts takes well under a minute. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60_000;
/** A lock file that stays empty or torn this long was left by a holder that died while writing it. */
const UNREADABLE_GRACE_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.start !== 'string' || typeof h.token !== 'string') return undefined;
    return { pid: h.pid, start: h.start, op: String(h.op ?? '?'), since: String(h.since ?? '?'), token: h.token };
  } catch {
    return undefined;
  }
}

async function holderAlive(h: LockHolder): Promise<boolean> {
  const start = await processStartTime(h.pid);
  return start !== undefined && start === h.start;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Moves the lock file aside and removes it, but only if it still holds `seen` (the content judged stale); a lock that
 * a live process made in between is put back.
 */
async function removeStale(file: string, seen: string): Promise<boolean> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  const moved = await readIfExists(aside);
  if (moved === seen) {
    await rm(aside, { force: true });
    return true;
  }
  await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
  return false;
}

export interface LockOptions {
  /** How long to wait for another `lab up`/`lab down` on the same directory (default 5 minutes). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Takes DIR's lock (creating DIR if needed) for `op`; resolves with the function that releases it. */
export async function acquireLabLock(dir: string, op: 'up' | 'down', o: LockOptions = {}): Promise<() => Promise<void>> {
  const file = labFiles(dir).lock;
  const log = o.log ?? (() => undefined);
  const timeoutMs = o.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const me: LockHolder = {
    pid: process.pid,
    start: (await processStartTime(process.pid)) ?? '',
    op,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const mine = `${JSON.stringify(me)}\n`;
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      const fh = await open(file, 'wx', 0o644);
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      return async () => {
        // Only our own lock: never one that another process took over meanwhile.
        if ((await readIfExists(file)) === mine) await rm(file, { force: true });
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // DIR removed by a `lab down` that just finished
      if (code !== 'EEXIST') throw e;
    }
    const text = await readIfExists(file);
    if (text === undefined) continue; // released meanwhile
    const holder = parseHolder(text);
    if (holder && !(await holderAlive(holder))) {
      if (await removeStale(file, text)) {
        log(`lab: took over the lock of ${dir} from pid ${holder.pid} (\`lab ${holder.op}\` since ${holder.since}), which is gone`);
      }
      continue;
    }
    if (!holder) {
      const age = await stat(file).then(
        (st) => Date.now() - st.mtimeMs,
        () => 0,
      );
      if (age > UNREADABLE_GRACE_MS) {
        if (await removeStale(file, text)) log(`lab: removed the unreadable lock ${file} (its holder died while writing it)`);
        continue;
      }
    }
    const who = holder ? `pid ${holder.pid} (\`lab ${holder.op}\` since ${holder.since})` : 'a process that is writing it';
    if (Date.now() >= deadline) {
      throw new Error(
        `lab: ${dir} is locked by ${who}; gave up after ${Math.round(timeoutMs / 1000)} s. Nothing was changed. If no such lab command runs any more, remove ${file}.`,
      );
    }
    if (!announced) {
      log(`lab: ${dir} is in use by ${who}; waiting for it (at most ${Math.round(timeoutMs / 1000)} s)`);
      announced = true;
    }
    await sleep(Math.min(200, Math.max(0, deadline - Date.now())));
  }
}
