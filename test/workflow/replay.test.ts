// Determinism guard: cluster workflows live for months, across upgrades of hardway. The current workflow code
// must replay one recorded history of every released workflow shape; a change that would break running
// workflows (reordered or renamed activities, new commands without `patched()`) fails here.
//
// Shapes kept (fixtures/):
//   history-0.1-bringup.pb  hardway 0.1: one bring-up per run (replayed by workflows/legacy/bringup-v0.ts)
//   history-0.2-entity.pb   hardway 0.2: the entity workflow (apply update, converge, wait)
//   history-0.3-runtime.pb  hardway 0.3: the same, with the runtime phase (patch phase-runtime)
//   history-0.4-rolling.pb  hardway 0.4: a bring-up, then a second converge that rolls the etcd members one at a
//                           time (patch etcd-rolling); recorded with HARDWAY_RECORD_ROLLING_HISTORY=<file> and
//                           --test-name-pattern='one at a time'
//   history-0.5-cluster.pb  hardway 0.5: the whole bring-up (patches phase-controlplane, phase-workers,
//                           phase-addons, phase-admin), then a rolling converge; recorded the same way
//   history-0.6-deferred.pb hardway 0.6: rolling steps in two passes (patch rolling-deferred-restarts): a bring-up,
//                           a converge that checks every etcd member at once and restarts them one at a time, and a
//                           no-op converge in one wave; recorded the same way
//
// When a release changes the workflow's shape ON PURPOSE (behind `patched()`), keep the old fixtures and record
// the new shape next to them:
//   HARDWAY_RECORD_HISTORY=$PWD/test/workflow/fixtures/history-<version>-entity.pb \
//     node --import tsx --test --test-name-pattern='seed order' test/workflow/cluster-workflow.test.ts
// and add it to the list below. Never re-record an existing fixture to make this test pass: that hides
// exactly the break it is here to catch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { workflowsPath } from '../../worker.js';

const fixtures = [
  { file: 'history-0.1-bringup.pb', workflowId: 'cluster-order' },
  { file: 'history-0.2-entity.pb', workflowId: 'cluster-order' },
  { file: 'history-0.3-runtime.pb', workflowId: 'cluster-order' },
  { file: 'history-0.4-rolling.pb', workflowId: 'cluster-rolling' },
  { file: 'history-0.5-cluster.pb', workflowId: 'cluster-rolling' },
  { file: 'history-0.6-deferred.pb', workflowId: 'cluster-rolling' },
];

describe('replay of recorded histories', () => {
  for (const f of fixtures) {
    it(`replays ${f.file} without nondeterminism`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(new URL(`./fixtures/${f.file}`, import.meta.url)));
      assert.ok((history.events?.length ?? 0) > 50, 'the fixture holds a whole bring-up');
      await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, f.workflowId);
    });
  }
});
