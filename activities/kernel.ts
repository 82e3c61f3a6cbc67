// What a Kubernetes node needs of its kernel, before containerd: the overlay filesystem and bridge netfilter
// (loaded now and at every boot), IP forwarding and bridged traffic through iptables (set now and at every boot).
// A setting this host cannot change (a network namespace, a container) is reported as it is, never as applied.
import { shellQuote as q } from '../remote/exec.js';
import { ConfigurationError } from './errors.js';
import type { HostShell } from './host-shell.js';
import type { StepContext } from './step.js';

import { MODULES_LOAD_PATH, SYSCTL_PATH } from '../model/paths.js';

export { MODULES_LOAD_PATH, SYSCTL_PATH } from '../model/paths.js';
export const NODE_MODULES = ['overlay', 'br_netfilter'] as const;
export const NODE_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
};

const path = (key: string) => `/proc/sys/${key.replaceAll('.', '/')}`;

/** One round trip: which modules are there, and each setting's value and whether it can be written here. */
export const KERNEL_STATE_SCRIPT = [
  'echo "@@overlay $(grep -cw overlay /proc/filesystems)"',
  'echo "@@br_netfilter $([ -d /proc/sys/net/bridge ] && echo 1 || echo 0)"',
  ...Object.keys(NODE_SYSCTLS).map(
    (k) =>
      `f=${q(path(k))}; if [ -e "$f" ]; then echo "@@sysctl ${k} $(cat "$f") $([ -w "$f" ] && echo rw || echo ro)"; else echo "@@sysctl ${k} - missing"; fi`,
  ),
].join('; ');

export interface KernelState {
  modules: Record<string, boolean>;
  sysctls: Record<string, { value: string; access: 'rw' | 'ro' | 'missing' }>;
}

export function parseKernelState(out: string): KernelState {
  const st: KernelState = { modules: {}, sysctls: {} };
  for (const line of out.split('\n')) {
    const [tag, a, b, c] = line.trim().split(/\s+/);
    if (tag === '@@overlay') st.modules['overlay'] = Number(a) > 0;
    if (tag === '@@br_netfilter') st.modules['br_netfilter'] = a === '1';
    if (tag === '@@sysctl' && a) st.sysctls[a] = { value: b ?? '-', access: c === 'rw' ? 'rw' : c === 'ro' ? 'ro' : 'missing' };
  }
  return st;
}

export async function ensureKernelPrerequisites(sh: HostShell, ctx: Pick<StepContext, 'changed' | 'notes'>): Promise<void> {
  const owner = { mode: '0644', owner: 'root', group: 'root' };
  if (
    (
      await sh.putFile(
        MODULES_LOAD_PATH,
        `# Written by hardway: modules a Kubernetes node needs at boot.\n${NODE_MODULES.join('\n')}\n`,
        owner,
      )
    ).changed
  ) {
    ctx.changed(MODULES_LOAD_PATH);
  }
  const sysctlText = Object.entries(NODE_SYSCTLS)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n');
  if ((await sh.putFile(SYSCTL_PATH, `# Written by hardway: settings a Kubernetes node needs at boot.\n${sysctlText}\n`, owner)).changed) {
    ctx.changed(SYSCTL_PATH);
  }
  let st = parseKernelState((await sh.exec(KERNEL_STATE_SCRIPT)).stdout);
  const absent = NODE_MODULES.filter((m) => !st.modules[m]);
  if (absent.length) {
    await sh.change(absent.map((m) => `modprobe ${m}`).join(' && '), { summary: `load kernel modules ${absent.join(', ')}` });
    ctx.changed(...absent.map((m) => `loaded ${m}`));
    st = parseKernelState((await sh.exec(KERNEL_STATE_SCRIPT)).stdout);
    const still = NODE_MODULES.filter((m) => !st.modules[m]);
    if (still.length)
      throw new ConfigurationError(`the kernel of this host has no ${still.join(' or ')} even after modprobe: a node needs them`);
  }
  const readOnly: string[] = [];
  for (const [k, want] of Object.entries(NODE_SYSCTLS)) {
    const s = st.sysctls[k];
    if (!s || s.access === 'missing') {
      readOnly.push(`${k} (missing)`);
      continue;
    }
    if (s.value === want) continue;
    if (s.access === 'ro') {
      readOnly.push(`${k} = ${s.value}`);
      continue;
    }
    await sh.change(`sysctl -q -w ${q(`${k}=${want}`)}`);
    ctx.changed(`${k} = ${want}`);
  }
  if (readOnly.length) {
    ctx.notes.push(`warning: cannot be set on this host (read-only here), left as they are: ${readOnly.join(', ')}`);
  }
}
