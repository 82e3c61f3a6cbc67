// A dev server started in its own process group (as `demo` starts it, so that a Ctrl-C reaches only its owner) must
// not outlive its owner, however the owner ends: here it dies of an uncaught error.
//   node --import tsx --test test/workflow/dev-server-lifetime.test.ts
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.js';

const DEV_SERVER = fileURLToPath(new URL('../../temporal/dev-server.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('dev server in its own process group', () => {
  it('ends with the process that started it, even when that one crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardway-devserver-'));
    try {
      const port = await freePort();
      const owner = `
        const { startDevServer } = await import(${JSON.stringify(DEV_SERVER)});
        await startDevServer({ db: ${JSON.stringify(join(dir, 'db.sqlite'))}, port: ${port}, headless: true, ownProcessGroup: true });
        const { execFileSync } = await import('node:child_process');
        const children = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]).toString();
        const server = children.split('\\n').map((l) => l.trim().split(' ')).find((f) => f[1] === 'temporal');
        console.log('server pid ' + (server ? server[0] : 'none: ' + children));
        throw new Error('the owner crashes');`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', owner], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      assert.notEqual(code, 0, out);
      assert.match(out, /the owner crashes/);
      const pid = Number(/server pid (\d+)/.exec(out)?.[1]);
      assert.ok(pid > 0, out);
      for (let i = 0; i < 150 && alive(pid); i++) await new Promise((r) => setTimeout(r, 200));
      const outlived = alive(pid);
      if (outlived) process.kill(pid, 'SIGKILL'); // by the pid we were given, never by name
      assert.equal(outlived, false, `the dev server (pid ${pid}) outlived its owner`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
