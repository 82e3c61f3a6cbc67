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
      server = await startDevServer({ db: o.db, port });
    }
    try {
      const dir = resolve(o.dir ?? defaultLabDir());
      await labUp({ dir, spec: loadSpec(o.file), log: err });
      const clusterFile = join(dir, 'cluster.yaml');
      out(`lab is up (${clusterFile}); bringing the cluster up`);
      await upAction({ ...o, file: clusterFile, worker: true });
    } finally {
      await server?.stop();
    }
  });
}
