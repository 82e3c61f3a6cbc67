#!/usr/bin/env node
// hardway's command line. Talks to Temporal only through @temporalio/client; the worker runs in `hardway worker`
// (or inside `up --worker` / `demo`).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { loadSpec, UsageError } from './cli/load-spec.js';
import { formatStatus } from './cli/status-format.js';
import { plan as planCluster } from './model/plan.js';
import { formatPlan } from './model/plan-format.js';
import { temporalOptions, connectClient, type TemporalFlags } from './temporal/connection.js';
import { workflowIdFor } from './temporal/constants.js';
import { defaultDbFile, devServerArgs, portAnswers, spawnDevServer, startDevServer } from './temporal/dev-server.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

/** The repository (or installed package) root: where examples/ lives. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const seedFile = () => join(packageRoot(), 'examples', 'seed-cluster.yaml');

function temporalFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--address <host:port>', 'Temporal frontend address').env('HARDWAY_TEMPORAL_ADDRESS'))
    .addOption(new Option('--namespace <ns>', 'Temporal namespace').env('HARDWAY_TEMPORAL_NAMESPACE'))
    .option('--tls', 'connect to Temporal with TLS')
    .option('--tls-ca <file>', 'CA certificate for the Temporal server (implies --tls)')
    .option('--tls-cert <file>', 'client certificate for mTLS (implies --tls)')
    .option('--tls-key <file>', 'client key for mTLS (implies --tls)')
    .option('--tls-server-name <name>', 'server name to verify in the Temporal server certificate');
}

const program = new Command()
  .name('hardway')
  .description(
    'Bring up a highly available Kubernetes cluster "the hard way" on Linux hosts over SSH, ' +
      'every step a durable Temporal activity that resumes where it stopped.',
  )
  .showHelpAfterError()
  .enablePositionalOptions();

program
  .command('plan')
  .description('validate a cluster file and print the plan: hosts, roles, addresses, pod ranges, certificates')
  .requiredOption('-f, --file <cluster.yaml>', 'the cluster file')
  .option('--json', 'print the whole plan as JSON')
  .action((o: { file: string; json?: boolean }) => {
    const p = planCluster(loadSpec(o.file));
    out(o.json ? JSON.stringify(p, null, 2) : formatPlan(p));
  });

temporalFlags(
  program
    .command('up')
    .description(
      'start the cluster workflow (id cluster-<name>); attach to it when it is already running; re-converge a finished cluster',
    )
    .requiredOption('-f, --file <cluster.yaml>', 'the cluster file')
    .option('--wait', 'follow the bring-up until it ends and print the final status')
    .option('--worker', 'also run a worker in this process for the duration (implies --wait)')
    .option('--identity <file>', 'SSH private key for the embedded worker (default: the cluster file\'s ssh.identityFile)')
    .option('--parallelism <n>', 'per-host steps of one phase running at once', (v) => Number(v), 5),
).action(upCommand);

type UpFlags = TemporalFlags & { file: string; wait?: boolean; worker?: boolean; identity?: string; parallelism?: number };

async function upCommand(o: UpFlags): Promise<void> {
  const spec = loadSpec(o.file);
  const topts = temporalOptions(o);
  const client = await connectClient(topts);
  const { startOrAttach, follow } = await import('./cli/cluster-ops.js');
  const stopWorker = o.worker ? await embeddedWorker(topts, o.identity) : undefined;
  try {
    const { handle } = await startOrAttach(client, spec, { parallelism: o.parallelism }, out);
    out(`Temporal UI: http://localhost:8233/namespaces/${topts.namespace}/workflows/${handle.workflowId}`);
    if (!o.wait && !o.worker) return;
    const final = await follow(handle, out);
    out(formatStatus(final));
    process.exitCode = final.state === 'done' ? 0 : 1;
  } finally {
    await stopWorker?.();
    await client.connection.close();
  }
}

temporalFlags(
  program
    .command('status')
    .description('phase, per-host steps, attempts, errors and timings of a cluster (a workflow query)')
    .argument('[cluster]', 'cluster name (default: the name in -f FILE)')
    .option('-f, --file <cluster.yaml>', 'take the cluster name from this file')
    .option('--json', 'print the status as JSON'),
).action(async (name: string | undefined, o: TemporalFlags & { file?: string; json?: boolean }) => {
  const cluster = name ?? (o.file ? loadSpec(o.file).name : undefined);
  if (!cluster) throw new UsageError('name the cluster: hardway status NAME (or -f cluster.yaml)');
  const client = await connectClient(temporalOptions(o));
  try {
    const { clusterStatus } = await import('./cli/cluster-ops.js');
    const st = await clusterStatus(client.workflow.getHandle(workflowIdFor(cluster))).catch((e: Error) => {
      if (e.name === 'WorkflowNotFoundError') throw new UsageError(`no cluster named ${cluster} (no workflow ${workflowIdFor(cluster)})`, 1);
      throw e;
    });
    out(o.json ? JSON.stringify(st, null, 2) : formatStatus(st));
  } finally {
    await client.connection.close();
  }
});

temporalFlags(
  program
    .command('worker')
    .description('run a Temporal worker on task queue "hardway" (workflows + activities, owns the SSH connections)')
    .option('--identity <file>', 'SSH private key (default: the cluster file\'s ssh.identityFile, ~/.ssh/id_*, or $SSH_AUTH_SOCK)'),
).action(async (o: TemporalFlags & { identity?: string }) => {
  const { runWorker, installRuntimeLogger } = await import('./worker.js');
  installRuntimeLogger(process.env.HARDWAY_LOG_LEVEL ?? 'INFO');
  await runWorker({ temporal: temporalOptions(o), ssh: { identityFile: o.identity }, log: err });
});

program
  .command('server')
  .description('run the Temporal dev server (SQLite file, so runs survive a restart) with hardway\'s search attributes')
  .option('--db <file>', 'SQLite database file', defaultDbFile())
  .option('--port <port>', 'frontend port', (v) => Number(v), 7233)
  .option('--ui-port <port>', 'web UI port (default: port + 1000)', (v) => Number(v))
  .option('--ip <address>', 'address to listen on', '127.0.0.1')
  .option('--headless', 'no web UI')
  .action((o: { db: string; port: number; uiPort?: number; ip: string; headless?: boolean }) => {
    err(`temporal ${devServerArgs(o).join(' ')}`);
    const child = spawnDevServer(o, 'inherit');
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
    child.on('exit', (code) => process.exit(code ?? 0));
  });

const lab = program.command('lab').description('local test hosts on this machine: network namespaces with a real sshd (root, Linux)');
lab
  .command('up')
  .description('turn every host of a cluster file (default: the seed\'s ten) into a host on this machine; idempotent')
  .option('-f, --file <cluster.yaml>', 'cluster file', seedFile())
  .option('--dir <dir>', 'where the lab keeps its state, key, known_hosts and cluster.yaml')
  .action(async (o: { file: string; dir?: string }) => {
    const { labUp, defaultLabDir, assertLabSupported } = await import('./lab/index.js');
    assertLabSupported();
    const dir = resolve(o.dir ?? defaultLabDir());
    await labUp({ dir, spec: loadSpec(o.file), log: err });
    out(`lab is up; use: hardway up -f ${join(dir, 'cluster.yaml')}`);
  });
lab
  .command('down')
  .description('remove every namespace, interface, process and directory the lab made')
  .option('--dir <dir>', 'the lab directory')
  .action(async (o: { dir?: string }) => {
    const { labDown, defaultLabDir, assertLabSupported } = await import('./lab/index.js');
    assertLabSupported();
    await labDown(resolve(o.dir ?? defaultLabDir()), err);
    out('lab is down');
  });
lab
  .command('status')
  .description('show each lab host and whether its sshd answers')
  .option('--dir <dir>', 'the lab directory')
  .action(async (o: { dir?: string }) => {
    const { labStatus, defaultLabDir } = await import('./lab/index.js');
    const rows = await labStatus(resolve(o.dir ?? defaultLabDir()));
    if (!rows.length) out('no lab hosts');
    for (const r of rows) out(`${r.name.padEnd(12)} ${r.address.padEnd(16)} sshd ${r.sshd}${r.pid ? ` (pid ${r.pid})` : ''}`);
  });
lab
  .command('exec')
  .description('run a command inside a lab host\'s namespaces: hardway lab exec HOST -- CMD...')
  .option('--dir <dir>', 'the lab directory')
  .argument('<host>', 'lab host name')
  .argument('<command...>', 'command and arguments')
  .passThroughOptions()
  .action(async (host: string, command: string[], o: { dir?: string }) => {
    const { labExec, defaultLabDir, assertLabSupported } = await import('./lab/index.js');
    assertLabSupported();
    const r = await labExec(resolve(o.dir ?? defaultLabDir()), host, command);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.code;
  });

temporalFlags(
  program
    .command('demo')
    .description('the whole thing in one command: dev server (if none answers), lab of the seed, worker, up --wait')
    .option('-f, --file <cluster.yaml>', 'cluster file for the lab', seedFile())
    .option('--dir <dir>', 'the lab directory')
    .option('--db <file>', 'SQLite file of the dev server it starts', defaultDbFile()),
).action(async (o: TemporalFlags & { file: string; dir?: string; db: string }) => {
  const { labUp, defaultLabDir, assertLabSupported } = await import('./lab/index.js');
  assertLabSupported();
  const topts = temporalOptions(o);
  const [host, port] = [topts.address.split(':')[0] ?? '127.0.0.1', Number(topts.address.split(':')[1] ?? 7233)];
  let server: { stop: () => Promise<void> } | undefined;
  if (!(await portAnswers(host === 'localhost' ? '127.0.0.1' : host, port))) {
    err(`starting the Temporal dev server on ${topts.address} (UI http://localhost:${port + 1000}, db ${o.db})`);
    server = await startDevServer({ db: o.db, port });
  }
  try {
    const dir = resolve(o.dir ?? defaultLabDir());
    await labUp({ dir, spec: loadSpec(o.file), log: err });
    const clusterFile = join(dir, 'cluster.yaml');
    out(`lab is up (${clusterFile}); bringing the cluster up`);
    await upCommand({ ...o, file: clusterFile, worker: true });
  } finally {
    await server?.stop();
  }
});

async function embeddedWorker(topts: ReturnType<typeof temporalOptions>, identityFile?: string): Promise<() => Promise<void>> {
  const { runWorker, installRuntimeLogger } = await import('./worker.js');
  installRuntimeLogger();
  let stop!: () => void;
  const until = new Promise<void>((r) => (stop = r));
  const running = runWorker({ temporal: topts, ssh: { identityFile }, until, log: err });
  running.catch((e: Error) => err(`worker stopped: ${e.message}`));
  return async () => {
    stop();
    await running.catch(() => {});
  };
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof UsageError) {
    err(e.message);
    process.exit(e.exitCode);
  }
  err(`hardway: ${(e as Error).message ?? e}`);
  process.exit(1);
});
