// hosts: every cluster host is listed in /etc/hosts of every host (a managed block; other lines untouched).
import type { ClusterPlan } from '../model/types.js';
import { mergeHostsFile } from '../render/hosts-file.js';
import { NotReady } from './errors.js';
import type { HostShells } from './host-shell.js';
import { runStep } from './step.js';
import type { StepReport } from './types.js';

export function hostsFileActivity(shells: HostShells) {
  return (plan: ClusterPlan, hostName: string): Promise<StepReport> =>
    runStep(hostName, async (ctx) => {
      const sh = shells.shell(plan, hostName);
      const current = (await sh.readFile('/etc/hosts'))?.toString('utf8') ?? '';
      const desired = mergeHostsFile(current, plan);
      if (desired !== current) {
        await sh.putFile('/etc/hosts', desired, { mode: '0644', owner: 'root', group: 'root' });
        ctx.changed.push('/etc/hosts');
      }
      // Verify through the resolver, as every later step will see it.
      const { stdout } = await sh.exec(`getent ahostsv4 ${plan.hosts.map((h) => h.name).join(' ')} | awk '$2=="STREAM"{print $1, $3}'`, {
        allowExitCodes: [0, 2],
      });
      const resolved = new Map(stdout.trim().split('\n').map((l) => l.split(' ')).map(([a, n]) => [n, a] as const));
      const wrong = plan.hosts.filter((h) => resolved.get(h.name) !== h.address);
      if (wrong.length) {
        throw new NotReady(
          `names do not resolve as planned: ${wrong.map((h) => `${h.name} -> ${resolved.get(h.name) ?? 'nothing'} (want ${h.address})`).join(', ')}`,
        );
      }
    });
}
