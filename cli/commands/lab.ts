// hardway lab up|down|status|exec: local test hosts (network namespaces with a real sshd); lab/ is loaded only when used.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { err, out } from '../io.js';
import { loadSpec } from '../load-spec.js';
import { seedFile } from '../options.js';

export function labCommand(program: Command): void {
  const lab = program
    .command('lab')
    .description('local test hosts on this machine: namespaces (network, PID, cgroup, ...) with a real sshd (root, Linux)');
  lab
    .command('up')
    .description("turn every host of a cluster file (default: the seed's ten) into a host on this machine; idempotent")
    .option('-f, --file <cluster.yaml>', 'cluster file', seedFile())
    .option('--dir <dir>', 'where the lab keeps its state, key, known_hosts and cluster.yaml')
    .option('--mirror-port <port>', 'port of the binary mirror on the bridge address (default $HARDWAY_LAB_MIRROR_PORT, else 8088)')
    .action(async (o: { file: string; dir?: string; mirrorPort?: string }) => {
      const { labUp, defaultLabDir, assertLabSupported } = await import('../../lab/index.js');
      assertLabSupported();
      const dir = resolve(o.dir ?? defaultLabDir());
      const mirror = o.mirrorPort === undefined ? {} : { port: Number(o.mirrorPort) };
      const state = await labUp({ dir, spec: loadSpec(o.file), log: err, mirror });
      if (state.mirror) out(`binary mirror: ${state.mirror.url} (serving ${state.mirror.directory})`);
      out(`lab is up; use: hardway up -f ${join(dir, 'cluster.yaml')}`);
    });
  lab
    .command('down')
    .description('remove every namespace, cgroup, interface, process and directory the lab made')
    .option('--dir <dir>', 'the lab directory')
    .action(async (o: { dir?: string }) => {
      const { labDown, defaultLabDir, assertLabSupported } = await import('../../lab/index.js');
      assertLabSupported();
      await labDown(resolve(o.dir ?? defaultLabDir()), err);
      out('lab is down');
    });
  lab
    .command('status')
    .description('show each lab host and whether its sshd answers')
    .option('--dir <dir>', 'the lab directory')
    .action(async (o: { dir?: string }) => {
      const { labStatus, defaultLabDir } = await import('../../lab/index.js');
      const rows = await labStatus(resolve(o.dir ?? defaultLabDir()));
      if (!rows.length) out('no lab hosts');
      for (const r of rows) out(`${r.name.padEnd(12)} ${r.address.padEnd(16)} sshd ${r.sshd}${r.pid ? ` (pid ${r.pid})` : ''}`);
    });
  lab
    .command('exec')
    .description("run a command inside a lab host's namespaces: hardway lab exec HOST -- CMD...")
    .option('--dir <dir>', 'the lab directory')
    .argument('<host>', 'lab host name')
    .argument('<command...>', 'command and arguments')
    .passThroughOptions()
    .action(async (host: string, command: string[], o: { dir?: string }) => {
      const { labExec, defaultLabDir, assertLabSupported } = await import('../../lab/index.js');
      assertLabSupported();
      // Options end at HOST (passThroughOptions), so the documented `HOST -- CMD` hands us the `--` too.
      const argv = command[0] === '--' ? command.slice(1) : command;
      if (argv.length === 0) throw new Error('lab exec: no command given (hardway lab exec HOST -- CMD...)');
      const r = await labExec(resolve(o.dir ?? defaultLabDir()), host, argv);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.exitCode = r.code;
    });
}
