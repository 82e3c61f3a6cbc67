// The ApplicationFailure a step's promise rejects with (an activity run in a mock Temporal activity).
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';

export async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, String(e));
    return e;
  }
  assert.fail('the step succeeded');
}
