// The plan of examples/seed-cluster.yaml, for unit tests of what the phases and activities do with it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { plan } from '../../model/plan.js';
import type { ClusterPlan } from '../../model/types.js';
import { parseClusterFile } from '../../model/validate.js';

export const seedText = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8');

export function seedPlan(): ClusterPlan {
  const r = parseClusterFile(seedText);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return plan(r.spec);
}

/** A logger for MockActivityEnvironment that says nothing. */
export const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
