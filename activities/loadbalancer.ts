// loadbalancer: HAProxy in TCP mode on LB:6443, one health-checked backend per control plane.
import { createHash } from 'node:crypto';
import type { ClusterPlan } from '../model/types.js';
import { HAPROXY_CONFIG_PATH, renderHaproxyConfig } from '../render/haproxy.js';
import { shellQuote as q } from '../remote/exec.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { plannedHost } from './plan-lookup.js';
import { ensureService } from './service.js';
import { runStep } from './step.js';
import type { StepReport } from './types.js';

async function ensureHaproxyInstalled(sh: HostShell): Promise<string[]> {
  const has = await sh.exec('command -v haproxy', { allowExitCodes: [0, 1, 127] });
  if (has.code === 0) return [];
  await sh.exec(
    'if command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy; ' +
      'elif command -v dnf >/dev/null; then dnf install -y haproxy; elif command -v yum >/dev/null; then yum install -y haproxy; ' +
      'else echo "no package manager to install haproxy" >&2; exit 3; fi',
    { timeoutMs: 10 * 60_000 },
  );
  return ['installed haproxy'];
}

export function loadBalancerActivity(shells: HostShells) {
  return (plan: ClusterPlan, hostName: string): Promise<StepReport> =>
    runStep(hostName, async (ctx) => {
      const sh = shells.shell(plan, hostName);
      const lb = plannedHost(plan, hostName);
      ctx.changed.push(...(await ensureHaproxyInstalled(sh)));

      const config = renderHaproxyConfig(plan, hostName);
      const current = (await sh.readFile(HAPROXY_CONFIG_PATH))?.toString();
      if (current !== config) {
        // Check the new configuration before it replaces the running one.
        const candidate = `${HAPROXY_CONFIG_PATH}.hardway-new`;
        await sh.putFile(candidate, config, { mode: '0644', owner: 'root', group: 'root' });
        const check = await sh.exec(`haproxy -c -f ${q(candidate)}`, { allowExitCodes: [0, 1, 2] });
        if (check.code !== 0) {
          await sh.exec(`rm -f ${q(candidate)}`);
          throw new ConfigurationError(`haproxy rejects the rendered configuration: ${check.stderr.trim() || check.stdout.trim()}`);
        }
        await sh.exec(`mv -f ${q(candidate)} ${q(HAPROXY_CONFIG_PATH)}`);
        ctx.changed.push(HAPROXY_CONFIG_PATH);
      }
      const result = await ensureService(sh, {
        name: 'haproxy',
        inputsDigest: createHash('sha256').update(config).digest('hex'),
      });
      ctx.changed.push(...result.changed);

      const port = plan.apiServer.port;
      const listening = await sh.exec(`ss -Hltn 'sport = :${port}'`, { allowExitCodes: [0, 1] });
      if (!listening.stdout.includes(`${lb.address}:${port}`)) {
        throw new NotReady(`haproxy on ${hostName} is not listening on ${lb.address}:${port} yet`);
      }
      ctx.notes.push(`listening on ${lb.address}:${port} for ${plan.apiServer.controlPlanes.length} control planes`);
    });
}
