// preflight: reach the host, learn its OS, memory and NICs, and stop early on what would break later.
import { ConfigurationError, PreflightFailed } from './errors.js';
import type { HostShells } from './host-shell.js';
import { evaluateProbe, PROBE_SCRIPT } from './preflight-facts.js';
import { runStep } from './step.js';
import type { PreflightInput, PreflightReport } from './types.js';

export function preflightActivity(shells: HostShells) {
  return (input: PreflightInput): Promise<PreflightReport> =>
    runStep<PreflightReport>(input.target.name, async (ctx) => {
      const { stdout } = await shells.shell(input.target).exec(PROBE_SCRIPT, { timeoutMs: 30_000 });
      const f = evaluateProbe({ name: input.target.name, address: input.target.address, roles: input.roles }, stdout);
      if (f.addressMissing) throw new ConfigurationError(f.addressMissing);
      const errors = [...f.errors];
      if (f.memoryShort) {
        if (input.memoryPolicy === 'fail') {
          errors.push(`${f.memoryShort} Add memory, or set preflight.memoryPolicy: warn in the cluster file.`);
        } else ctx.notes.push(`warning: ${f.memoryShort}`);
      }
      if (errors.length) throw new PreflightFailed(errors.join(' '));
      ctx.notes.push(...f.notes);
      ctx.notes.push(`${f.facts.os} ${f.facts.arch}, ${f.facts.memoryMiB} MiB, infrastructure NIC ${f.facts.infraInterface}`);
      return { facts: f.facts };
    });
}
