// hardway worker: a long-running Temporal worker (workflows + activities); @temporalio/worker is loaded only here.
import type { Command } from 'commander';
import { temporalOptions, type TemporalFlags } from '../../temporal/connection.js';
import { err } from '../io.js';
import { temporalFlags } from '../options.js';

export function workerCommand(program: Command): void {
  temporalFlags(
    program
      .command('worker')
      .description('run a Temporal worker on task queue "hardway" (workflows + activities, owns the SSH connections)')
      .option(
        '--identity <file>',
        "SSH private key on this machine; overrides the cluster file's ssh.identityFile (default: that, else ~/.ssh/id_*, else $SSH_AUTH_SOCK)",
      ),
  ).action(async (o: TemporalFlags & { identity?: string }) => {
    const { runWorker, installRuntimeLogger } = await import('../../worker.js');
    installRuntimeLogger(process.env.HARDWAY_LOG_LEVEL ?? 'INFO');
    await runWorker({ temporal: temporalOptions(o), ssh: { identityFile: o.identity }, log: err });
  });
}
