// loadbalancer: HAProxy in TCP mode on LB:<port>, one backend per control plane, checked with GET /readyz over TLS.
// A new configuration is checked with `haproxy -c`, then reloaded: open connections (watches, exec streams) survive.
import { createHash } from 'node:crypto';
import { HAPROXY_CONFIG_PATH, renderHaproxyConfig } from '../render/haproxy.js';
import { haproxyConfigHeader } from '../model/paths.js';
import { shellQuote as q } from '../remote/exec.js';
import { keepEarlierFile } from './earlier-file.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { ensureService } from './service.js';
import { runStep, type StepContext } from './step.js';
import type { LoadBalancerInput, StepReport } from './types.js';

async function ensureHaproxyInstalled(sh: HostShell, ctx: Pick<StepContext, 'changed'>): Promise<void> {
  const has = await sh.exec('command -v haproxy', { allowExitCodes: [0, 1, 127] });
  if (has.code === 0) return;
  await sh.change(
    'if command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy; ' +
      'elif command -v dnf >/dev/null; then dnf install -y haproxy; elif command -v yum >/dev/null; then yum install -y haproxy; ' +
      'else echo "no package manager to install haproxy" >&2; exit 3; fi',
    { timeoutMs: 10 * 60_000, summary: 'install haproxy (apt-get, dnf or yum)' },
  );
  ctx.changed('installed haproxy');
}

export function loadBalancerActivity(shells: HostShells) {
  return (input: LoadBalancerInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      await ensureHaproxyInstalled(sh, ctx);

      const config = renderHaproxyConfig(input);
      const current = (await sh.readFile(HAPROXY_CONFIG_PATH))?.toString();
      if (current !== config) {
        // Check the new configuration before it replaces the running one.
        const candidate = `${HAPROXY_CONFIG_PATH}.hardway-new`;
        await sh.putFile(candidate, config, { mode: '0644', owner: 'root', group: 'root' });
        const check = await sh.exec(`haproxy -c -f ${q(candidate)}`, { allowExitCodes: [0, 1, 2], reads: [candidate] });
        if (check.code !== 0) {
          await sh.change(`rm -f ${q(candidate)}`);
          throw new ConfigurationError(`haproxy rejects the rendered configuration: ${check.stderr.trim() || check.stdout.trim()}`);
        }
        await keepEarlierFile(sh, HAPROXY_CONFIG_PATH, haproxyConfigHeader(input.cluster), ctx, current ?? null);
        await sh.change(`mv -f ${q(candidate)} ${q(HAPROXY_CONFIG_PATH)}`, {
          summary: `replace ${HAPROXY_CONFIG_PATH} (checked with haproxy -c)`,
        });
        ctx.changed(HAPROXY_CONFIG_PATH);
      }
      await ensureService(
        sh,
        { name: 'haproxy', inputsDigest: createHash('sha256').update(config).digest('hex'), reloadOnInputChange: true },
        ctx,
      );

      const { address, port } = input;
      const listening = await sh.exec(`ss -Hltn 'sport = :${port}'`, { allowExitCodes: [0, 1] });
      if (!listening.stdout.includes(`${address}:${port}`)) {
        throw new NotReady(`haproxy on ${input.target.name} is not listening on ${address}:${port} yet`);
      }
      ctx.notes.push(`listening on ${address}:${port} for ${input.controlPlanes.length} control planes`);
    });
}
