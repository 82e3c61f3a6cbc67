// Determinism guard: the current workflow code must replay a history recorded from an earlier version.
// A change that would break running workflows (reordered activities, new commands without patching) fails here.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
const { temporal } = proto;
import { workflowsPath } from '../../worker.js';

it('replays the recorded seed bring-up without nondeterminism', async () => {
  const history = temporal.api.history.v1.History.decode(readFileSync(new URL('./fixtures/history-seed.pb', import.meta.url)));
  assert.ok((history.events?.length ?? 0) > 50, 'the fixture holds a whole bring-up');
  await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, 'cluster-order');
});
