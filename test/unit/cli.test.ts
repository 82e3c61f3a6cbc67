// The command line as a user meets it: help for every command, and a bad cluster file stops with exit code 2,
// every problem listed, before anything is touched.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const client = fileURLToPath(new URL('../../client.ts', import.meta.url));
const hardway = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', client, ...args], { encoding: 'utf8' });

describe('hardway CLI', () => {
  it('describes every command', () => {
    const r = hardway('--help');
    assert.equal(r.status, 0);
    for (const c of ['plan', 'up', 'status', 'retry', 'worker', 'server', 'lab', 'demo'])
      assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'));
    const up = hardway('up', '--help');
    for (const o of ['--file', '--wait', '--worker', '--address', '--namespace', '--tls', '--codec-key-file'])
      assert.ok(up.stdout.includes(o), `up --help lacks ${o}`);
    const lab = hardway('lab', '--help');
    for (const c of ['up', 'down', 'status', 'exec']) assert.match(lab.stdout, new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('lists every command in --help, and every command answers --help with exit code 0', () => {
    const commands = [
      'plan',
      'up',
      'status',
      'watch',
      'cancel',
      'retry',
      'add-worker',
      'add-control-plane',
      'remove-worker',
      'replace-etcd-member',
      'reset',
      'kubeconfig',
      'worker',
      'server',
      'codec-server',
      'codec-key',
      'lab',
      'demo',
    ];
    const top = hardway('--help');
    assert.equal(top.status, 0, top.stderr);
    for (const c of commands) assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `hardway --help lacks ${c}`);
    for (const args of [...commands.map((c) => [c]), ...['up', 'down', 'status', 'exec'].map((c) => ['lab', c])]) {
      const r = hardway(...args, '--help');
      assert.equal(r.status, 0, `hardway ${args.join(' ')} --help exited ${r.status}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: hardway ${args.join(' ')}\\b`), `hardway ${args.join(' ')} --help printed no usage`);
    }
  });

  it('add-worker needs a name and an address, and checks the port before it contacts anything', () => {
    const noAddress = hardway('add-worker', 'lab', '--name', 'worker-3');
    assert.notEqual(noAddress.status, 0);
    assert.match(noAddress.stderr, /--address/);
    const badPort = hardway('add-worker', 'lab', '--name', 'worker-3', '--address', '192.168.56.33', '--port', '70000');
    assert.equal(badPort.status, 2, badPort.stderr);
    assert.match(badPort.stderr, /--port 70000: give a TCP port between 1 and 65535/);
    const help = hardway('add-worker', '--help');
    for (const o of ['--name', '--address', '--user', '--port', '--request-id', '--wait']) assert.ok(help.stdout.includes(o), `lacks ${o}`);
  });

  it('reset asks before it changes anything: without a terminal and without --yes it refuses, naming --yes', () => {
    const r = hardway('reset', 'lab', '--address', '127.0.0.1:1');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /not on a terminal, so nothing was asked: run again with --yes to go ahead/i);
    const help = hardway('reset', '--help');
    for (const o of ['--include-ca', '--yes', '--wait']) assert.ok(help.stdout.includes(o), `lacks ${o}`);
  });

  it('status takes -o wide or json and nothing else, before it contacts anything', () => {
    const bad = hardway('status', 'lab', '-o', 'yaml');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /-o yaml: give wide or json/);
    const help = hardway('status', '--help');
    for (const o of ['--output', '--host', '--json']) assert.ok(help.stdout.includes(o), `lacks ${o}`);
  });

  it('remove-worker and replace-etcd-member take the names they act on', () => {
    const noName = hardway('remove-worker', 'lab');
    assert.notEqual(noName.status, 0);
    assert.match(noName.stderr, /missing required argument 'name'/);
    const noNew = hardway('replace-etcd-member', 'lab', 'etcd-3', '--address', '192.168.56.14');
    assert.notEqual(noNew.status, 0);
    assert.match(noNew.stderr, /--name/);
    assert.ok(hardway('remove-worker', '--help').stdout.includes('--host-lost'));
  });

  it('hardway temporal runs the Temporal CLI that setup installed, with the arguments as given', () => {
    const r = hardway('temporal', '--version');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^temporal version \d+\.\d+\.\d+/);
    const bad = hardway('temporal', 'no-such-command');
    assert.notEqual(bad.status, 0, 'its exit code is passed on');
  });

  it('makes a payload key file of mode 0600 without printing the key, and says what is wrong with a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardway-cli-'));
    try {
      const file = join(dir, 'codec.keys');
      const made = hardway('codec-key', file, '--id', 'k1');
      assert.equal(made.status, 0, made.stderr);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const key = readFileSync(file, 'utf8').match(/^k1:(\S+)$/m)![1]!;
      assert.ok(!made.stdout.includes(key) && !made.stderr.includes(key), 'the key is never printed');
      assert.match(made.stdout, /new current key 'k1'/);
      const rotated = hardway('codec-key', file, '--rotate');
      assert.equal(rotated.status, 0, rotated.stderr);
      assert.match(rotated.stdout, /1 older key\(s\) kept/);

      writeFileSync(join(dir, 'short.keys'), 'k1:c2hvcnQ=\n');
      for (const [args, message] of [
        [['status', 'lab', '--address', '127.0.0.1:1', '--codec-key-file', join(dir, 'short.keys')], /line 1: the key 'k1' is 5 bytes/],
        [['status', 'lab', '--address', '127.0.0.1:1', '--codec-key-file', join(dir, 'none.keys')], /none\.keys does not exist/],
        [['codec-server'], /codec-server needs the keys the workers encrypt with: --codec-key-file FILE/],
      ] as const) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', client, ...args], {
          encoding: 'utf8',
          env: { ...process.env, HARDWAY_CODEC_KEY_FILE: '', HARDWAY_CODEC_KEY: '' },
        });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the plan of the seed, and all of it as JSON', () => {
    const seed = fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url));
    const text = hardway('plan', '-f', seed);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /worker-2\s+192\.168\.56\.32\s+worker/);
    const json = JSON.parse(hardway('plan', '-f', seed, '--json').stdout);
    assert.equal(json.hosts.length, 10);
    assert.equal(json.networks.clusterDns, '10.32.0.10');
  });

  it('prints the checked file as the input of the apply signal, as the user wrote it', () => {
    const r = hardway('plan', '-f', fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url)), '--apply-input');
    assert.equal(r.status, 0, r.stderr);
    const input = JSON.parse(r.stdout) as { spec: { name: string; hosts: unknown[]; parsed?: unknown } };
    assert.equal(input.spec.name, 'hardway');
    assert.equal(input.spec.hosts.length, 10);
    assert.equal(input.spec.parsed, undefined, 'derived fields stay out of the request');
  });

  it('rejects a bad cluster file with exit code 2 and every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hardway-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'name: bad\nhosts:\n  - name: ca\n    address: 192.168.56.10\n    roles: [ca]\n    rols: [etcd]\nnetworks:\n  pods: 10.32.0.0/16\n',
    );
    const r = hardway('plan', '-f', file);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nothing was changed/);
    assert.match(r.stderr, /did you mean "roles"/);
    assert.match(r.stderr, /etcd/);
    assert.match(r.stderr, /overlap/);
    assert.match(r.stderr, /bad\.yaml:6:5/);
  });
});
