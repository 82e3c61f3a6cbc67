// hardway temporal ARGS...: the Temporal CLI that scripts/setup.sh installed (HARDWAY_TEMPORAL_BIN, the cache's, or
// one on the PATH), with ARGS as they are, e.g. `hardway temporal workflow signal -w cluster-lab --name addWorker ...`.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { temporalBinary } from '../../temporal/paths.js';

export function temporalCommand(program: Command): void {
  program
    .command('temporal')
    .description('run the Temporal CLI that setup installed, with these arguments (signals, updates, queries, the UI)')
    .argument('[args...]', 'arguments for the Temporal CLI')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      const child = spawn(temporalBinary(), args, { stdio: 'inherit' });
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
      process.exitCode = await new Promise<number>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      });
    });
}
