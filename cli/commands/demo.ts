// hardway demo: dev server (if none answers), a lab of the seed cluster, then `up --worker` on it.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { temporalOptions, type TemporalFlags } from '../../temporal/connection.js';
import { defaultDbFile, portAnswers, startDevServer } from '../../temporal/dev-server.js';
import { err, out } from '../io.js';
import { loadSpec } from '../load-spec.js';
import { seedFile, temporalFlags } from '../options.js';
import { upAction } from './up.js';

export function demoCommand(program: Command): void {
  temporalFlags(
    program
      .command('demo')
      .description('the whole thing in one command: dev server (if none answers), lab of the seed, worker, up --wait')
      .option('-f, --file <cluster.yaml>', 'cluster file for the lab', seedFile())
      .option('--dir <dir>', 'the lab directory')
      .option('--db <file>', 'SQLite file of the dev server it starts', defaultDbFile()),
  ).action(async (o: TemporalFlags & { file: string; dir?: string; db: string }) => {
    const { labUp, defaultLabDir, assertLabSupported } = await import('../../lab/index.js');
    assertLabSupported();
    const topts = temporalOptions(o);
    const [host, port] = [topts.address.split(':')[0] ?? '127.0.0.1', Number(topts.address.split(':')[1] ?? 7233)];
    let server: { stop: () => Promise<void> } | undefined;
    if (!(await portAnswers(host === 'localhost' ? '127.0.0.1' : host, port))) {
      err(`starting the Temporal dev server on ${topts.address} (UI http://localhost:${port + 1000}, db ${o.db})`);
      server = await startDevServer({ db: o.db, port, ownProcessGroup: true });
    }
    const spec = loadSpec(o.file);
    const serverNote = server
      ? `the dev server this demo started stops too; the cluster's workflow is saved in ${o.db}`
      : `the Temporal server at ${topts.address} goes on`;
    const cleanup = async () => {
      await server?.stop();
    };
    // Ctrl-C while the lab comes up: stop what this demo started, and say how to go on.
    const onLabInterrupt = () => {
      err(
        `\ninterrupted while the lab was coming up; ${serverNote}. hardway demo again finishes it (every step looks ` +
          'before it changes anything); hardway lab down removes the lab.',
      );
      void cleanup().finally(() => process.exit(130));
    };
    process.once('SIGINT', onLabInterrupt);
    // Stopped by a signal other than Ctrl-C: the server in its own process group must not outlive the demo.
    const onTerm = () => void cleanup().finally(() => process.exit(143));
    process.once('SIGTERM', onTerm);
    try {
      const dir = resolve(o.dir ?? defaultLabDir());
      await labUp({ dir, spec, log: err });
      process.off('SIGINT', onLabInterrupt);
      const clusterFile = join(dir, 'cluster.yaml');
      out(`lab is up (${clusterFile}); bringing the cluster up`);
      await upAction({
        ...o,
        file: clusterFile,
        worker: true,
        onInterrupt: {
          message:
            `stopped: the worker in this process stopped, and ${serverNote}. The bring-up resumes where it stopped with ` +
            `hardway demo${o.dir ? ` --dir ${o.dir}` : ''} again (or: hardway worker, then hardway watch ${spec.name}).`,
          cleanup,
        },
      });
    } finally {
      process.off('SIGINT', onLabInterrupt);
      process.off('SIGTERM', onTerm);
      await cleanup();
    }
  });
}
