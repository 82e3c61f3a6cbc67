// hosts: every cluster host is listed in /etc/hosts of every host (a managed block; other lines untouched).
import { HOSTS_FILE } from '../model/paths.js';
import { mergeHostsFile } from '../render/hosts-file.js';
import { NotReady } from './errors.js';
import type { HostShells } from './host-shell.js';
import { runStep } from './step.js';
import type { HostsFileInput, StepReport } from './types.js';

export { HOSTS_FILE } from '../model/paths.js';

export function hostsFileActivity(shells: HostShells) {
  return (input: HostsFileInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      const current = (await sh.readFile(HOSTS_FILE))?.toString('utf8') ?? '';
      const desired = mergeHostsFile(current, input);
      if (desired !== current) {
        await sh.putFile(HOSTS_FILE, desired, { mode: '0644', owner: 'root', group: 'root' });
        ctx.changed(HOSTS_FILE);
      }
      // Verify through the resolver, as every later step will see it.
      const { stdout } = await sh.exec(`getent ahostsv4 ${input.hosts.map((h) => h.name).join(' ')} | awk '$2=="STREAM"{print $1, $3}'`, {
        allowExitCodes: [0, 2],
        reads: [HOSTS_FILE],
      });
      const resolved = new Map(
        stdout
          .trim()
          .split('\n')
          .map((l) => l.split(' '))
          .map(([a, n]) => [n, a] as const),
      );
      const wrong = input.hosts.filter((h) => resolved.get(h.name) !== h.address);
      if (wrong.length) {
        throw new NotReady(
          `names do not resolve as planned: ${wrong.map((h) => `${h.name} -> ${resolved.get(h.name) ?? 'nothing'} (want ${h.address})`).join(', ')}`,
        );
      }
    });
}
