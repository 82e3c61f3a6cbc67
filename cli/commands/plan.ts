// hardway plan: validate a cluster file and print what would be built. Pure: no Temporal, no SSH.
import type { Command } from 'commander';
import { plan as planCluster } from '../../model/plan.js';
import { formatPlan } from '../../model/plan-format.js';
import type { ApplyRequest } from '../../workflows/status.js';
import { out } from '../io.js';
import { loadSpec } from '../load-spec.js';

export function planCommand(program: Command): void {
  program
    .command('plan')
    .description('validate a cluster file and print the plan: hosts, roles, addresses, pod ranges, certificates')
    .requiredOption('-f, --file <cluster.yaml>', 'the cluster file')
    .option('--json', 'print the whole plan as JSON')
    .option(
      '--apply-input',
      'print the checked file as the input of the workflow\'s "apply" signal or update (temporal workflow signal --input)',
    )
    .action((o: { file: string; json?: boolean; applyInput?: boolean }) => {
      const spec = loadSpec(o.file);
      if (o.applyInput) {
        const request: ApplyRequest = { spec };
        out(JSON.stringify(request));
        return;
      }
      const p = planCluster(spec);
      out(o.json ? JSON.stringify(p, null, 2) : formatPlan(p));
    });
}
