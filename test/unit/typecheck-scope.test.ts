// `npm run typecheck` (and the test command's first line) must cover the tests and their doubles: a change to
// the activities' contract that breaks a double has to fail the type check, not only the test run.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

it('type-checks tests, test doubles and scripts with the sources', () => {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const files = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--listFilesOnly'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .map((f) => f.replace(root, ''));
  for (const f of [
    'test/workflow/fixtures/doubles.ts',
    'test/helpers/memory-host.ts',
    'test/e2e/bringup.test.ts',
    'scripts/bench.ts',
    'workflows/cluster.ts',
  ]) {
    assert.ok(files.includes(f), `tsconfig.json does not type-check ${f}`);
  }
});
