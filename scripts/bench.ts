// Benchmark (prints figures; asserts nothing): a seed bring-up on a fresh lab with the real worker, then a no-op
// re-run. Wall time per phase and in total, SSH commands per host, and the re-run's time.
//   npm run bench            (root, Linux; after scripts/setup.sh)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

const port = 7400 + Math.floor(Math.random() * 200);
const dir = mkdtempSync(join(tmpdir(), 'hardway-bench-'));
const seed = readFileSync(new URL('../examples/seed-cluster.yaml', import.meta.url), 'utf8').replaceAll('192.168.56.', '192.168.61.');
const parsed = parseClusterFile(seed);
if (!parsed.ok) throw new Error('seed does not validate');

const server = await startDevServer({ db: join(dir, 'temporal.db'), port, headless: true });
const pool = new SshPool();
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
  for (const run of ['first bring-up', 'no-op re-run']) {
    for (const s of pool.stats()) commandsBefore.set(s.label, s.commands);
    t = Date.now();
    const req = await applySpec(
      client,
      r.spec,
      process.env.HARDWAY_BENCH_PARALLELISM ? { parallelism: Number(process.env.HARDWAY_BENCH_PARALLELISM) } : {},
    );
    const { status } = await follow(req, () => {});
    const total = Date.now() - t;
    console.log(`\n${run}: ${formatDuration(total)} total, state ${status.state}, ${status.changedCount} changes`);
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
