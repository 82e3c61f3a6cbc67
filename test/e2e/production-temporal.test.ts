// End to end on the production Temporal path: the seed lab brought up by two `hardway worker` processes against a
// PostgreSQL-backed Temporal server (temporal/postgres/: Debian's PostgreSQL, the schema applied by temporal-sql-tool,
// temporal-server built from go.temporal.io/server at the version docker-compose.temporal.yml pins), one of them
// killed with SIGKILL while a phase runs. Asserts on outcomes: the converge completes, the nodes are Ready and run a
// Deployment, both workers did steps, and the run is in PostgreSQL (history and visibility, with hardway's search
// attribute), found by the server through that attribute.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySpec, follow } from '../../cli/cluster-ops.js';
import type { PostgresTemporal } from '../../temporal/postgres/index.js';
import { LabCluster } from '../helpers/lab-cluster.js';
import { seedOnSubnet } from '../helpers/lab-spec.js';
import { smoke } from '../helpers/smoke.js';
import { postgresServer } from '../helpers/temporal.js';
import { scheduledTwice, WorkerDrill } from '../helpers/worker-drill.js';

const SUBNET = '192.168.62';
const NAME = 'prod';
const WORKFLOW_ID = `cluster-${NAME}`;
const dir = mkdtempSync(join(tmpdir(), 'hardway-e2e-production-'));
let temporal: PostgresTemporal;
const lab = new LabCluster(dir, async () => {
  const t = await postgresServer();
  temporal = t.server;
  return t;
});
let history: unknown[] = [];

before(() => lab.start(seedOnSubnet(SUBNET, NAME)));
after(() => lab.stop());

/** The worker process (its PID) named by each ActivityTaskStarted event's identity (`<pid>@<host>`). */
function activityStartsByPid(events: unknown[]): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const e of events) {
    const identity = (e as { activityTaskStartedEventAttributes?: { identity?: string } }).activityTaskStartedEventAttributes?.identity;
    const pid = Number(/^(\d+)@/.exec(identity ?? '')?.[1]);
    if (pid) byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
  }
  return byPid;
}

describe('bring-up on a PostgreSQL-backed Temporal server with two worker processes', { timeout: 20 * 60_000 }, () => {
  it('completes every phase though one of the two workers is killed (SIGKILL) in the control-plane phase', async () => {
    assert.match(temporal.version, /^v\d+\.\d+\.\d+$/);
    const drill = await WorkerDrill.start({
      address: lab.env.address,
      logFile: join(dir, 'worker-processes.log'),
      workers: 2,
      stepAside: lab,
    });
    try {
      const req = await applySpec(lab.env.client, lab.spec);
      // No replacement: the other worker process, already polling, takes over what the dead one was running.
      await drill.killDuring(req.handle, (s) => s.phase === 'controlplane' && s.state === 'running', 'phase controlplane running', {
        replace: false,
      });
      assert.equal(drill.pids.length, 1, 'one worker process left');
      const { result, status } = await follow(req, () => {});
      history = (await req.handle.fetchHistory()).events ?? [];
      assert.equal(status.state, 'converged', status.error);
      assert.equal(result.outcome, 'converged');
      assert.deepEqual(
        status.phases.filter((p) => p.state === 'done').map((p) => p.name),
        ['preflight', 'hosts', 'pki', 'etcd', 'loadbalancer', 'runtime', 'controlplane', 'workers', 'addons', 'admin'],
      );
      drill.report();
      assert.deepEqual(scheduledTwice(history), [], 'a step was scheduled again');
      // Both worker processes ran steps: the killed one before it died, the other one to the end.
      const starts = activityStartsByPid(history);
      const killed = drill.kills[0]!.pid;
      const survivor = drill.pids[0]!;
      assert.ok((starts.get(killed) ?? 0) > 0, `the killed worker ran no step: ${JSON.stringify([...starts])}`);
      assert.ok((starts.get(survivor) ?? 0) > 0, `the surviving worker ran no step: ${JSON.stringify([...starts])}`);
    } finally {
      await drill.stop();
    }
  });

  it('every node is Ready with the pod range of the plan', () => smoke({ dir, plan: lab.plan }).nodesReadyWithPlannedRanges());

  it('a Deployment spread over the workers becomes available', () => smoke({ dir, plan: lab.plan }).deploymentSpreadOverWorkers());

  it("keeps the run in PostgreSQL: the execution and its history, its visibility row with hardway's search attribute", async () => {
    assert.ok(history.length > 100, `only ${history.length} events`);
    const pg = temporal.postgres;
    const q = (sql: string) => pg.query('temporal', sql);
    const runs = await q(`SELECT count(*) FROM executions WHERE workflow_id = '${WORKFLOW_ID}'`);
    assert.equal(runs, '1', 'one run of the cluster workflow in the executions table');
    const nodes = Number(
      await q(`SELECT count(*) FROM history_node h JOIN executions e ON h.tree_id = e.run_id WHERE e.workflow_id = '${WORKFLOW_ID}'`),
    );
    assert.ok(nodes > 10, `${nodes} history nodes of ${WORKFLOW_ID} in PostgreSQL`);
    const visibility = await pg.query(
      'temporal_visibility',
      `SELECT status || ' ' || search_attributes::text FROM executions_visibility WHERE workflow_id = '${WORKFLOW_ID}'`,
    );
    assert.match(visibility, /^1 /, `running (the cluster workflow waits for the next request): ${visibility}`);
    const attrs = JSON.parse(visibility.slice(2)) as Record<string, unknown>;
    assert.ok(Object.values(attrs).includes(NAME), `the cluster name among the search attributes: ${visibility}`);
    // The server finds it by that attribute (its visibility store is PostgreSQL).
    const found: string[] = [];
    for await (const w of lab.env.client.workflow.list({ query: `HardwayCluster = "${NAME}"` })) found.push(w.workflowId);
    assert.deepEqual(found, [WORKFLOW_ID]);
  });
});
