// Benchmark (prints figures; asserts nothing): the seed's bring-up with 2, 10 and 30 workers side by side (wall time,
// history size, SSH commands per host), then the latency of adding a worker to a running cluster, from the request
// to a Ready node. One dev server and one worker for all; a fresh lab for each size.
//   npm run bench:scale                          (root, Linux; after scripts/setup.sh)
//   HARDWAY_BENCH_WORKERS=2,10 npm run bench:scale   other sizes
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { labDown, labUp } from '../lab/index.js';
import { withAddedWorker } from '../model/add-node.js';
import type { ClusterSpec } from '../model/types.js';
import { parseClusterFile } from '../model/validate.js';
import { SshPool } from '../remote/pool.js';
import { createWorker } from '../worker.js';
import { addWorker, applySpec, follow } from '../cli/cluster-ops.js';
import { DEFAULT_PARALLELISM } from '../cli/commands/up.js';
import { startDevServer } from '../temporal/dev-server.js';
import { formatDuration } from '../cli/status-format.js';
const { temporal } = proto;

const SUBNET = '192.168.61';
const sizes = (process.env.HARDWAY_BENCH_WORKERS ?? '2,10,30').split(',').map(Number);

/** The seed with `n` workers (worker-1.. at .101..), on the bench subnet, named after its size. */
function seedWith(n: number): ClusterSpec {
  const text = readFileSync(new URL('../examples/seed-cluster.yaml', import.meta.url), 'utf8').replaceAll('192.168.56.', `${SUBNET}.`);
  const r = parseClusterFile(text);
  if (!r.ok) throw new Error('the seed does not validate');
  const others = r.spec.hosts.filter((h) => !h.roles.includes('worker'));
  const workers = Array.from({ length: n }, (_, i) => ({
    name: `worker-${i + 1}`,
    address: `${SUBNET}.${101 + i}`,
    roles: ['worker' as const],
  }));
  return { ...r.spec, name: `scale${n}`, hosts: [...others, ...workers] };
}

interface Row {
  workers: number;
  hosts: number;
  labUpMs: number;
  bringUpMs: number;
  phases: string;
  events: number;
  historyKiB: number;
  commands: { cp: string; worker: string; other: string };
  addWorkerMs?: number;
}

const port = 7600 + Math.floor(Math.random() * 200);
const serverDir = mkdtempSync(join(tmpdir(), 'hardway-bench-scale-'));
const server = await startDevServer({ db: join(serverDir, 'temporal.db'), port, headless: true });
const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
const rows: Row[] = [];
try {
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), `hardway-bench-scale${n}-`));
    const pool = new SshPool();
    const worker = await createWorker({ temporal: { address: `127.0.0.1:${port}`, namespace: 'default' }, pool });
    const running = worker.run();
    try {
      let t = Date.now();
      const labSpec = seedWith(n);
      await labUp({ dir, spec: labSpec });
      const labUpMs = Date.now() - t;
      const r = parseClusterFile(readFileSync(join(dir, 'cluster.yaml'), 'utf8'));
      if (!r.ok) throw new Error('lab cluster.yaml does not validate');
      t = Date.now();
      const req = await applySpec(client, r.spec, { parallelism: DEFAULT_PARALLELISM });
      const { status } = await follow(req, () => {});
      const bringUpMs = Date.now() - t;
      if (status.state !== 'converged')
        throw new Error(`the ${n}-worker bring-up ended ${status.state}: ${JSON.stringify(status.blocked)}`);
      const history = await req.handle.fetchHistory();
      const range = (label: (s: string) => boolean) => {
        const c = pool
          .stats()
          .filter((s) => label(s.label))
          .map((s) => s.commands);
        return c.length ? `${Math.min(...c)}–${Math.max(...c)}` : '-';
      };
      const row: Row = {
        workers: n,
        hosts: r.spec.hosts.length,
        labUpMs,
        bringUpMs,
        phases: status.phases.map((p) => `${p.name} ${formatDuration(p.durationMs)}`).join(', '),
        events: history.events?.length ?? 0,
        historyKiB: Math.round(temporal.api.history.v1.History.encode(history).finish().length / 1024),
        commands: {
          cp: range((l) => l.startsWith('cp-')),
          worker: range((l) => l.startsWith('worker-')),
          other: range((l) => !l.startsWith('cp-') && !l.startsWith('worker-')),
        },
      };
      if (n === sizes[0]) {
        // Adding a worker to the running cluster: the lab gets the host, then the request, until the node is Ready.
        const add = { name: `worker-${n + 1}`, address: `${SUBNET}.${101 + n}` };
        await labUp({ dir, spec: withAddedWorker(labSpec, add) });
        t = Date.now();
        const added = await follow(await addWorker(client, r.spec.name, add), () => {});
        row.addWorkerMs = Date.now() - t;
        if (added.result.state !== 'Ready') throw new Error(`add-worker ended ${added.result.state}`);
      }
      rows.push(row);
      console.log(
        `${n} workers (${row.hosts} hosts): lab up ${formatDuration(labUpMs)}, bring-up ${formatDuration(bringUpMs)}` +
          (row.addWorkerMs !== undefined ? `, add-worker to Ready ${formatDuration(row.addWorkerMs)}` : ''),
      );
      console.log(`  ${row.phases}`);
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await pool.close();
      await labDown(dir).catch((e: Error) => console.error(`lab down: ${e.message}`));
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log('\n| workers | hosts | bring-up | history | SSH commands per host (control plane / worker / other) | add-worker to Ready |');
  console.log('|---:|---:|---:|---:|---|---:|');
  for (const x of rows) {
    console.log(
      `| ${x.workers} | ${x.hosts} | ${formatDuration(x.bringUpMs)} | ${x.events} events, ${x.historyKiB} KiB | ` +
        `${x.commands.cp} / ${x.commands.worker} / ${x.commands.other} | ${x.addWorkerMs !== undefined ? formatDuration(x.addWorkerMs) : ''} |`,
    );
  }
} finally {
  await client.connection.close();
  await server.stop();
  rmSync(serverDir, { recursive: true, force: true });
}
