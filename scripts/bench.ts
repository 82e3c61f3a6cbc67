// Benchmark (prints figures; asserts nothing): a seed bring-up on a fresh lab with the real worker, then a no-op
// re-run. Wall time per phase and in total, SSH commands per host, CPU by process, and the re-run's time.
//   npm run bench            (root, Linux; after scripts/setup.sh)
//   HARDWAY_BENCH_PARALLELISM=N   another per-phase parallelism
//   HARDWAY_BENCH_NOOPS=N         N more no-op re-runs
//   HARDWAY_BENCH_STEPS=1         every step with its start and duration
//   HARDWAY_BENCH_TRACE=FILE      every SSH command (start, ms, host, first 160 characters) appended to FILE
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { labDown, labUp } from '../lab/index.js';
import { parseClusterFile } from '../model/validate.js';
import { SshPool } from '../remote/pool.js';
import { createWorker } from '../worker.js';
import { applySpec, follow } from '../cli/cluster-ops.js';
import { startDevServer } from '../temporal/dev-server.js';
import { formatDuration } from '../cli/status-format.js';
import { DEFAULT_PARALLELISM } from '../cli/commands/up.js';

const traceFile = process.env.HARDWAY_BENCH_TRACE;

/** CPU ticks (1/100 s) the machine spent busy (not idle, not waiting for I/O) since it started. */
function machineBusy(): number {
  const c = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return c.reduce((a, b) => a + b, 0) - c[3]! - c[4]!;
}

/** CPU ticks (user + system, children included) of every process, by pid, with its name. */
function procSnap(): Map<string, [string, number]> {
  const m = new Map<string, [string, number]>();
  for (const pid of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st
        .slice(st.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
      m.set(pid, [comm, f[11]! + f[12]! + f[13]! + f[14]!]);
    } catch {
      /* gone */
    }
  }
  return m;
}
const port = 7400 + Math.floor(Math.random() * 200);
const dir = mkdtempSync(join(tmpdir(), 'hardway-bench-'));
const seed = readFileSync(new URL('../examples/seed-cluster.yaml', import.meta.url), 'utf8').replaceAll('192.168.56.', '192.168.61.');
const parsed = parseClusterFile(seed);
if (!parsed.ok) throw new Error('seed does not validate');

const server = await startDevServer({ db: join(dir, 'temporal.db'), port, headless: true });
const pool = new SshPool(
  traceFile
    ? {
        onCommandDone: (e) =>
          appendFileSync(
            traceFile,
            `${Date.now() - e.durationMs} ${e.durationMs} ${e.host.split(' ')[0]} ${e.command.replace(/\s+/g, ' ').slice(0, 160)}\n`,
          ),
      }
    : {},
);
try {
  let t = Date.now();
  await labUp({ dir, spec: { ...parsed.spec, name: 'bench' } });
  console.log(`lab up (10 hosts): ${formatDuration(Date.now() - t)}`);
  const r = parseClusterFile(readFileSync(join(dir, 'cluster.yaml'), 'utf8'));
  if (!r.ok) throw new Error('lab cluster.yaml does not validate');
  const worker = await createWorker({ temporal: { address: `127.0.0.1:${port}`, namespace: 'default' }, pool });
  const running = worker.run();
  const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });

  const commandsBefore = new Map<string, number>();
  const runs = [
    'first bring-up',
    'no-op re-run',
    ...Array.from({ length: Number(process.env.HARDWAY_BENCH_NOOPS ?? 0) }, (_, i) => `no-op ${i + 2}`),
  ];
  for (const run of runs) {
    if (traceFile) appendFileSync(traceFile, `=== ${run}\n`);
    if (run.startsWith('no-op')) {
      // What the running cluster itself costs, for comparison with the run's figures below.
      const i0 = machineBusy();
      await new Promise((r) => setTimeout(r, 5000));
      console.log(`  idle cluster: machine CPU busy ${((machineBusy() - i0) / 100).toFixed(1)} s in 5 s`);
    }
    const snap0 = procSnap();
    const pc0 = process.cpuUsage();
    const cpu0 = machineBusy();
    for (const s of pool.stats()) commandsBefore.set(s.label, s.commands);
    t = Date.now();
    const req = await applySpec(
      client,
      r.spec,
      // What `hardway up` sends.
      { parallelism: Number(process.env.HARDWAY_BENCH_PARALLELISM ?? DEFAULT_PARALLELISM) },
    );
    const { status } = await follow(req, () => {});
    const total = Date.now() - t;
    const cpu1 = machineBusy();
    const pc = process.cpuUsage(pc0);
    const snap1 = procSnap();
    const byComm = new Map<string, number>();
    for (const [pid, [comm, v]] of snap1) {
      const before = snap0.get(pid);
      if (!before) continue;
      byComm.set(comm, (byComm.get(comm) ?? 0) + v - before[1]);
    }
    console.log(`\n${run}: ${formatDuration(total)} total, state ${status.state}, ${status.changedCount} changes`);
    console.log(
      `  CPU by process (s): ${[...byComm]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([c, v]) => `${c} ${(v / 100).toFixed(1)}`)
        .join(', ')}`,
    );
    console.log(`  this process (worker + client): ${((pc.user + pc.system) / 1e6).toFixed(1)} s CPU`);
    console.log(`  machine CPU busy during the run: ${((cpu1 - cpu0) / 100).toFixed(1)} s`);
    const history = await req.handle.fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    console.log(`  history of the cluster workflow so far: ${history.events?.length ?? 0} events, ${(bytes / 1024).toFixed(0)} KiB`);
    for (const p of status.phases.filter((x) => x.durationMs !== undefined)) {
      console.log(`  ${p.name.padEnd(13)} ${formatDuration(p.durationMs).padStart(9)}`);
    }
    // The slowest step of each phase: where a phase's time goes.
    const slowest = status.phases
      .map(
        (p) =>
          status.steps.filter((x) => x.phase === p.name && x.durationMs !== undefined).sort((a, b) => b.durationMs! - a.durationMs!)[0],
      )
      .filter((x) => x !== undefined);
    console.log(`  slowest step per phase: ${slowest.map((x) => `${x.name} ${formatDuration(x.durationMs)}`).join(', ')}`);
    if (process.env.HARDWAY_BENCH_STEPS) {
      // Every step with its start (from the request) and duration: where the gaps between steps are.
      for (const x of status.steps.filter((y) => y.startedAt !== undefined)) {
        const start = Date.parse(x.startedAt!) - t;
        console.log(`    ${String(start).padStart(6)} ms +${String(x.durationMs ?? '?').padStart(5)} ms  ${x.name}`);
      }
    }
    console.log('  SSH commands per host:');
    for (const s of pool.stats()) {
      console.log(`    ${s.label.padEnd(28)} ${String(s.commands - (commandsBefore.get(s.label) ?? 0)).padStart(4)}`);
    }
  }
  worker.shutdown();
  await running;
  await client.connection.close();
} finally {
  pool.close();
  await labDown(dir).catch(() => {});
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
