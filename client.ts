#!/usr/bin/env node
// hardway's command line. Talks to Temporal only through @temporalio/client; the worker runs in `hardway worker`
// (or inside `up --worker` / `demo`). Each command lives in cli/commands/<name>.ts.
import { Command } from 'commander';
import { demoCommand } from './cli/commands/demo.js';
import { kubeconfigCommand } from './cli/commands/kubeconfig.js';
import { labCommand } from './cli/commands/lab.js';
import { planCommand } from './cli/commands/plan.js';
import { retryCommand } from './cli/commands/retry.js';
import { addNodeCommands } from './cli/commands/add-node.js';
import { removeWorkerCommand } from './cli/commands/remove-worker.js';
import { resetCommand } from './cli/commands/reset.js';
import { replaceEtcdMemberCommand } from './cli/commands/replace-etcd-member.js';
import { temporalCommand } from './cli/commands/temporal.js';
import { serverCommand } from './cli/commands/server.js';
import { statusCommand } from './cli/commands/status.js';
import { watchCommand } from './cli/commands/watch.js';
import { cancelCommand } from './cli/commands/cancel.js';
import { codecKeyCommand } from './cli/commands/codec-key.js';
import { codecServerCommand } from './cli/commands/codec-server.js';
import { upCommand } from './cli/commands/up.js';
import { workerCommand } from './cli/commands/worker.js';
import { err } from './cli/io.js';
import { UsageError } from './cli/load-spec.js';

const program = new Command()
  .name('hardway')
  .description(
    'Bring up a highly available Kubernetes cluster "the hard way" on Linux hosts over SSH, ' +
      'every step a durable Temporal activity that resumes where it stopped.',
  )
  .showHelpAfterError()
  .enablePositionalOptions();

// In the order `hardway --help` lists them.
planCommand(program);
upCommand(program);
statusCommand(program);
watchCommand(program);
cancelCommand(program);
retryCommand(program);
addNodeCommands(program);
removeWorkerCommand(program);
replaceEtcdMemberCommand(program);
resetCommand(program);
kubeconfigCommand(program);
workerCommand(program);
serverCommand(program);
codecServerCommand(program);
codecKeyCommand(program);
temporalCommand(program);
labCommand(program);
demoCommand(program);

// The reader of our output went away (`hardway status | head`): stop quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof UsageError) {
    err(e.message);
    process.exit(e.exitCode);
  }
  err(`hardway: ${(e as Error).message ?? e}`);
  process.exit(1);
});
