// preflight: reach the host, learn its OS, memory and NICs, and stop early on what would break later.
import type { ClusterPlan } from '../model/types.js';
import { ConfigurationError, PreflightFailed } from './errors.js';
import type { HostShells } from './host-shell.js';
import { evaluateProbe, PROBE_SCRIPT } from './preflight-facts.js';
import { runStep } from './step.js';
import type { PreflightReport } from './types.js';
import { plannedHost } from './plan-lookup.js';

export function preflightActivity(shells: HostShells) {
  return (plan: ClusterPlan, hostName: string): Promise<PreflightReport> =>
    runStep<PreflightReport>(hostName, async (ctx) => {
      const host = plannedHost(plan, hostName);
      const { stdout } = await shells.shell(plan, hostName).exec(PROBE_SCRIPT, { timeoutMs: 30_000 });
      const f = evaluateProbe(host, stdout);
      if (f.addressMissing) throw new ConfigurationError(f.addressMissing);
      const errors = [...f.errors];
      if (f.memoryShort) {
        if (plan.preflight.memoryPolicy === 'fail') {
          errors.push(`${f.memoryShort} Add memory, or set preflight.memoryPolicy: warn in the cluster file.`);
        } else ctx.notes.push(`warning: ${f.memoryShort}`);
      }
      if (errors.length) throw new PreflightFailed(errors.join(' '));
      ctx.notes.push(...f.notes);
      ctx.notes.push(`${f.facts.os} ${f.facts.arch}, ${f.facts.memoryMiB} MiB, infrastructure NIC ${f.facts.infraInterface}`);
      return { facts: f.facts };
    });
}
