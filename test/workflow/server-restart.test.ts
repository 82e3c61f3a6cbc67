// The Temporal server stopped and started again in the middle of a bring-up (SQLite persistence, as `hardway server`
// runs it): the worker and the client reconnect, the bring-up completes, and no step that had finished runs again.
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { startDevServer } from '../../temporal/dev-server.js';
import { clusterWorkflow } from '../../workflows/cluster.js';
import { applyUpdate, statusQuery, type ConvergeResult } from '../../workflows/status.js';
import { workflowsPath } from '../../worker.js';
import { activityDoubles, type CallRecord } from './fixtures/doubles.js';
import { seedSpec } from './helpers.js';
import { freePort } from '../helpers/free-port.js';

const dir = mkdtempSync(join(tmpdir(), 'hardway-restart-'));
const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

it('a bring-up survives a restart of the Temporal server in its middle', async () => {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const db = join(dir, 'temporal.db');
  let server = await startDevServer({ db, port, headless: true });
  stops.push(() => server.stop());

  const calls: CallRecord[] = [];
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue: TASK_QUEUE,
    workflowsPath: workflowsPath(),
    activities: activityDoubles(calls, { delayMs: 150 }),
  });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
  });
  const client = new Client({ connection: await Connection.connect({ address }) });
  stops.push(() => client.connection.close());

  const spec = seedSpec('restart');
  const handle = await client.workflow.start(clusterWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: workflowIdFor(spec.name),
    args: [{ options: { heartbeatTimeoutSeconds: 5 } }],
  });
  await handle.startUpdate(applyUpdate, { args: [{ spec }], updateId: 'bring-up', waitForStage: 'ACCEPTED' });
  // In the middle of the bring-up (the etcd members run), the server goes away, and comes back on its database.
  while (!calls.some((c) => c.activity === 'etcd/member')) await new Promise((r) => setTimeout(r, 20));
  // The steps the server had recorded as completed before it went away (a step that finished in the last moments
  // may not have reported it yet: the server then runs it again, which an idempotent step allows).
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityId!]),
  );
  const finishedBefore = events
    .filter((e) => e.activityTaskCompletedEventAttributes)
    .map((e) => scheduled.get(String(e.activityTaskCompletedEventAttributes!.scheduledEventId))!);
  await server.stop();
  await new Promise((r) => setTimeout(r, 2000));
  server = await startDevServer({ db, port, headless: true });

  // The client and the worker reconnect by themselves; the update's result is still there to be had.
  let result: ConvergeResult | undefined;
  for (const t0 = Date.now(); !result;) {
    assert.ok(Date.now() - t0 < 180_000, 'the bring-up did not complete within 3 minutes of the restart');
    result = await handle
      .getUpdateHandle<ConvergeResult>('bring-up')
      .result()
      .catch(() => undefined);
    if (!result) await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(result.outcome, 'converged');
  const st = await handle.query(statusQuery);
  assert.equal(st.state, 'converged');
  assert.ok(
    st.phases.every((p) => p.state === 'done'),
    JSON.stringify(st.phases.map((p) => [p.name, p.state])),
  );
  assert.ok(finishedBefore.length >= 10 + 10, `preflight and hosts had finished before the restart (${finishedBefore.length} steps)`);
  // A step that had finished before the restart is not run again after it.
  const runs = new Map<string, number>();
  for (const c of calls.filter((x) => x.outcome === 'ok'))
    runs.set(`${c.activity}/${c.host}`, (runs.get(`${c.activity}/${c.host}`) ?? 0) + 1);
  for (const step of finishedBefore) assert.equal(runs.get(step), 1, `${step} ran again after the restart`);
});
