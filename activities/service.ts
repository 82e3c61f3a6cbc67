// Converging a systemd service: write the unit if it differs, reload, enable, and (re)start only when the unit,
// its binaries or its inputs (certificates, configs) changed, or when it is not running.
import { shellQuote as q } from '../remote/exec.js';
import type { HostShell } from './host-shell.js';

export interface ServiceSpec {
  name: string;
  /** A unit hardway owns; omit to use the unit the OS package installed. */
  unitPath?: string;
  unit?: string;
  /** Digest of everything the running service has loaded (configs, certificates). */
  inputsDigest: string;
  binariesChanged?: boolean;
}

const stampPath = (name: string) => `/var/lib/hardway/services/${name}.inputs`;

export async function ensureService(sh: HostShell, s: ServiceSpec): Promise<{ changed: string[]; restarted: boolean }> {
  const changed: string[] = [];
  let unitChanged = false;
  if (s.unitPath && s.unit) {
    unitChanged = (await sh.putFile(s.unitPath, s.unit, { mode: '0644', owner: 'root', group: 'root' })).changed;
    if (unitChanged) {
      changed.push(s.unitPath);
      await sh.exec('systemctl daemon-reload');
    }
  }
  const stamp = (await sh.readFile(stampPath(s.name)))?.toString().trim();
  const inputsChanged = stamp !== s.inputsDigest;
  const state = await sh.exec(`systemctl is-enabled ${q(s.name)}; systemctl is-active ${q(s.name)}`, { allowExitCodes: [0, 1, 3, 4] });
  const [enabled, active] = state.stdout.trim().split('\n');
  if (enabled !== 'enabled') {
    await sh.exec(`systemctl enable ${q(s.name)}`);
    changed.push(`enabled ${s.name}`);
  }
  const mustRestart = unitChanged || inputsChanged || !!s.binariesChanged;
  let restarted = false;
  if (active !== 'active' || mustRestart) {
    await sh.exec(`systemctl ${active === 'active' ? 'restart' : 'start'} ${q(s.name)}`, { timeoutMs: 120_000 });
    changed.push(`${active === 'active' ? 'restarted' : 'started'} ${s.name}`);
    restarted = true;
  }
  if (inputsChanged) {
    await sh.putFile(stampPath(s.name), `${s.inputsDigest}\n`, { mode: '0644', owner: 'root', group: 'root' });
  }
  return { changed, restarted };
}
