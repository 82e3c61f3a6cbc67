// Converging a systemd service: write the unit if it differs, reload, enable, and (re)start only when the unit,
// its binaries or its inputs (certificates, configs) changed, or when it is not running.
//
// A step may be killed at any line and retried. What earlier attempts changed comes back in the step's
// heartbeat (step.ts), so a unit or binary changed after the service's last (re)start still gets its reload and
// restart on the retry, even though the host now looks converged; one changed before it does not get another.
import { createHash } from 'node:crypto';
import { SERVICE_STAMP_DIR } from '../model/paths.js';
import { shellQuote as q } from '../remote/exec.js';
import { NotReady } from './errors.js';
import type { HostShell } from './host-shell.js';
import type { StepContext } from './step.js';

export interface ServiceSpec {
  name: string;
  /** A unit hardway owns; omit to use the unit the OS package installed. */
  unitPath?: string;
  unit?: string;
  /** Digest of everything the running service has loaded (configs, certificates). */
  inputsDigest: string;
  /** The service's binaries, as the step reports their change (their paths): a change means a restart. */
  binaries?: string[];
  /**
   * A change of the inputs alone is taken with `systemctl reload` (the service rereads its configuration and keeps
   * its connections, e.g. haproxy's watches and exec streams); a changed unit or binary still restarts it.
   */
  reloadOnInputChange?: boolean;
  /** Called before a running service is restarted (not before a first start): may refuse by throwing. */
  beforeRestart?: () => Promise<void>;
  /**
   * Do not restart a running service now: mark it on the host instead (its stamp says RESTART_MARK), so that the next
   * ensureService of it, in this converge's second pass or in any later run, restarts it. A first start is not deferred.
   */
  deferRestart?: boolean;
}

/** A service's stamp content meaning "restart it": never a digest, so its inputs count as changed until it is. */
export const RESTART_MARK = 'restart-pending';

/**
 * A service's inputs digest (ServiceSpec.inputsDigest): the configs it was rendered with (`texts`) and the files it
 * loads once at start (certificates, keys), by their content on the host, so that a renewed one restarts it.
 */
export async function inputsDigest(sh: HostShell, files: readonly string[], ...texts: string[]): Promise<string> {
  const { stdout, code } = await sh.exec(`sha256sum ${files.map(q).join(' ')}`, { reads: [...files], allowExitCodes: [0, 1] });
  if (code !== 0) throw new NotReady(`missing on ${sh.name}: ${files.join(', ')} (an earlier phase writes them)`);
  return createHash('sha256').update(texts.join('\0')).update('\0').update(stdout).digest('hex');
}

/**
 * A unit's enablement and activity from `systemctl show` (one process per look, where `is-enabled` and `is-active`
 * took two: on hosts where systemctl is slow to start, that is most of a no-op run). Real systemd prints every
 * property; the lab's daemonless systemctl prints those that have a value. An unknown unit has neither.
 */
export function unitState(showOutput: string): { enabled: string; active: string } {
  const value = (key: string) =>
    showOutput
      .split('\n')
      .find((l) => l.startsWith(`${key}=`))
      ?.slice(key.length + 1)
      .trim() ?? '';
  return { enabled: value('UnitFileState'), active: value('ActiveState') };
}

const stampPath = (name: string) => `${SERVICE_STAMP_DIR}/${name}.inputs`;

/**
 * Which of `triggers` (the unit, the binaries) changed after the service's last start or restart, in `changes`:
 * everything the step's attempts changed so far, ordered by each entry's last change (step.ts mergeChanges).
 */
export function pendingRestart(changes: readonly string[], name: string, triggers: readonly string[]): string[] {
  const lastStart = Math.max(changes.lastIndexOf(`started ${name}`), changes.lastIndexOf(`restarted ${name}`));
  return triggers.filter((t) => changes.lastIndexOf(t) > lastStart);
}

export async function ensureService(
  sh: HostShell,
  s: ServiceSpec,
  ctx: Pick<StepContext, 'changed' | 'changes'>,
): Promise<{ restarted: boolean; deferred: boolean; wasRunning: boolean }> {
  if (s.unitPath && s.unit) {
    if ((await sh.putFile(s.unitPath, s.unit, { mode: '0644', owner: 'root', group: 'root' })).changed) ctx.changed(s.unitPath);
  }
  const pending = pendingRestart(ctx.changes(), s.name, [...(s.unitPath ? [s.unitPath] : []), ...(s.binaries ?? [])]);
  if (s.unitPath && pending.includes(s.unitPath)) await sh.change('systemctl daemon-reload');
  const stamp = (await sh.readFile(stampPath(s.name)))?.toString().trim();
  const inputsChanged = stamp !== s.inputsDigest;
  const marked = stamp === RESTART_MARK;
  const { enabled, active } = unitState((await sh.exec(`systemctl show ${q(s.name)}`, { allowExitCodes: [0, 1, 3, 4] })).stdout);
  if (enabled !== 'enabled') {
    await sh.change(`systemctl enable ${q(s.name)}`);
    ctx.changed(`enabled ${s.name}`);
  }
  let restarted = false;
  if (active === 'active' && (pending.length > 0 || inputsChanged) && s.deferRestart) {
    // The restart is the later pass's: only the mark (and anything written above) changes now.
    if (!marked) {
      await sh.putFile(stampPath(s.name), `${RESTART_MARK}\n`, { mode: '0644', owner: 'root', group: 'root' });
      ctx.changed(`${s.name} marked for a restart (one host at a time)`);
    }
    return { restarted: false, deferred: true, wasRunning: true };
  }
  if (active === 'active' && pending.length === 0 && inputsChanged && !marked && s.reloadOnInputChange) {
    await sh.change(`systemctl reload ${q(s.name)}`, { timeoutMs: 120_000 });
    ctx.changed(`reloaded ${s.name}`);
  } else if (active !== 'active' || pending.length > 0 || inputsChanged) {
    const verb = active === 'active' ? 'restart' : 'start';
    if (verb === 'restart') await s.beforeRestart?.();
    await sh.change(`systemctl ${verb} ${q(s.name)}`, { timeoutMs: 120_000 });
    ctx.changed(`${verb === 'restart' ? 'restarted' : 'started'} ${s.name}`);
    restarted = true;
  }
  if (inputsChanged) {
    await sh.putFile(stampPath(s.name), `${s.inputsDigest}\n`, { mode: '0644', owner: 'root', group: 'root' });
  }
  return { restarted, deferred: false, wasRunning: active === 'active' };
}
