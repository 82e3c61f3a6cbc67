// The workflow bundle holds orchestration only: no YAML parser, no schema library (the spec is checked by
// model/check.ts, which needs neither), nothing from activities/ but types.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../worker.js';

it('bundles the workflow code without yaml, zod or activity code', async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath() });
  const packages = new Set([...code.matchAll(/node_modules\/((?:@[a-z0-9.-]+\/)?[a-z0-9.-]+)\//g)].map((m) => m[1]));
  assert.ok(packages.has('@temporalio/workflow'), `bundle packages: ${[...packages].join(', ')}`);
  for (const banned of ['yaml', 'zod', 'ssh2', 'node-forge']) assert.ok(!packages.has(banned), `${banned} is in the workflow bundle`);
  assert.ok(!/\.\/activities\/(?!types)[a-z-]+\.ts/.test(code), 'activity code is in the workflow bundle');
});
