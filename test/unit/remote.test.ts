// Integration tests for remote/ against a real throwaway OpenSSH sshd on 127.0.0.1.
// Needs root (sshd), /usr/sbin/sshd and ssh-keygen. Run:
//   node --import tsx --test test/unit/remote.test.ts
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  AuthenticationFailed,
  CommandFailed,
  CommandTimeout,
  ConnectionFailed,
  HostKeyMismatch,
  HostKeyUnknown,
  RemoteHost,
  SshConfigError,
  SshPool,
  fileSha256,
  putFile,
  putFiles,
  readFile,
  shellQuote,
  statFile,
  type CommandDoneEvent,
  type CommandEvent,
  type SshTarget,
} from '../../remote/index.js';
import { NON_RETRYABLE_TYPES } from '../../model/errors.js';
import { readTexts } from '../../activities/host-shell.js';
import { sshShells } from '../../activities/ssh-shells.js';
import { freePort } from '../helpers/free-port.js';

const SSHD = '/usr/sbin/sshd';
const canRun = process.getuid?.() === 0 && existsSync(SSHD);

function keygen(path: string, type = 'ed25519'): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path, '-C', 'hardway-test']);
}

function sshKeygenFingerprint(pubPath: string): string {
  // "256 SHA256:xxxx comment (ED25519)"
  const out = execFileSync('ssh-keygen', ['-lf', pubPath], { encoding: 'utf8' });
  return out.split(' ')[1]!;
}

interface Sshd {
  dir: string;
  port: number;
  proc: ChildProcess;
  log: () => string;
  accepted: () => number;
  hostPub: string;
  hostFingerprint: string;
  clientKey: string;
  knownHosts: string;
  stop: () => Promise<void>;
}

async function startSshd(o: { maxSessions?: number } = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'hardway-sshd-'));
  chmodSync(dir, 0o700);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  keygen(join(dir, 'host_ed25519'));
  keygen(join(dir, 'host_rsa'), 'rsa');
  keygen(join(dir, 'client_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')));
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `HostKey ${join(dir, 'host_rsa')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'LogLevel VERBOSE',
    `MaxSessions ${o.maxSessions ?? 10}`,
    'MaxStartups 100',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), config);
  const proc = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`sshd did not start:\n${log}`)), 10_000);
    const check = () => {
      if (/Server listening/.test(log)) {
        clearTimeout(t);
        resolve();
      }
    };
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
  const hostPub = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim();
  const [type, b64] = hostPub.split(' ');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `# test\n[127.0.0.1]:${port} ${type} ${b64}\n`);
  const stop = async () => {
    if (proc.exitCode === null && proc.pid) {
      // Kill per-connection children first, then the listener (only processes we started).
      killChildren(proc.pid);
      proc.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          proc.kill('SIGKILL');
          r();
        }, 3000);
        proc.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    dir,
    port,
    proc,
    log: () => log,
    accepted: () => (log.match(/Accepted publickey/g) ?? []).length,
    hostPub,
    hostFingerprint: sshKeygenFingerprint(join(dir, 'host_ed25519.pub')),
    clientKey: join(dir, 'client_ed25519'),
    knownHosts,
    stop,
  };
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function killChildren(pid: number): number[] {
  const kids = childPids(pid);
  for (const k of kids) {
    try {
      process.kill(k, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return kids;
}

function sleeping(marker: string): boolean {
  try {
    execFileSync('pgrep', ['-f', marker], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejectsWith<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return e as T;
  }
  assert.fail(`expected ${cls.name}, but it resolved`);
}

describe('remote (real sshd)', { skip: !canRun && 'needs root and /usr/sbin/sshd' }, () => {
  let sshd: Sshd;
  let pool: SshPool;
  let events: CommandEvent[];
  let done: CommandDoneEvent[];
  let target: SshTarget;
  let host: RemoteHost;

  before(async () => {
    sshd = await startSshd();
    events = [];
    done = [];
    pool = new SshPool({ onCommand: (e) => events.push(e), onCommandDone: (e) => done.push(e), keepaliveInterval: 5000 });
    target = {
      host: '127.0.0.1',
      name: 'test-host',
      port: sshd.port,
      user: 'root',
      identityFile: sshd.clientKey,
      knownHostsFile: sshd.knownHosts,
      connectTimeoutMs: 5000,
    };
    host = pool.host(target);
  });

  after(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  test('exec returns stdout, stderr and exit code', async () => {
    const r = await host.exec('echo hello; echo warn >&2');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.stderr, 'warn\n');
    const allowed = await host.exec('exit 3', { allowExitCodes: [3] });
    assert.equal(allowed.code, 3);
    // Each ended command is reported with its duration and exit code, a failed one too.
    await host.exec('sleep 0.2; exit 5').catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    const ended = done.map((e) => [e.command, e.exitCode]);
    assert.deepEqual(ended.slice(-3), [
      ['echo hello; echo warn >&2', 0],
      ['exit 3', 3],
      ['sleep 0.2; exit 5', 5],
    ]);
    assert.ok(done.at(-1)!.durationMs >= 200, `${done.at(-1)!.durationMs} ms`);
  });

  test('non-zero exit throws CommandFailed with code and stderr tail', async () => {
    const e = await rejectsWith(host.exec('echo partial; echo "it broke" >&2; exit 7'), CommandFailed);
    assert.equal(e.name, 'CommandFailed');
    assert.equal(e.exitCode, 7);
    assert.match(e.stderrTail, /it broke/);
    assert.match(e.stdoutTail, /partial/);
    assert.match(e.message, /exited with code 7/);
    assert.match(e.message, /it broke/);
    // The tail is bounded (~2 KB) and keeps the END of stderr.
    const big = await rejectsWith(host.exec('head -c 100000 /dev/zero | tr "\\0" x >&2; echo THE-END >&2; exit 1'), CommandFailed);
    assert.ok(Buffer.byteLength(big.stderrTail) <= 2100, `tail is ${big.stderrTail.length} bytes`);
    assert.match(big.stderrTail, /THE-END/);
  });

  test('readTexts: several files in one command, each exactly as on disk, missing ones absent', async () => {
    const d = mkdtempSync(join(tmpdir(), 'hardway-texts-'));
    try {
      writeFileSync(join(d, 'a.crt'), '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n');
      writeFileSync(join(d, "it's b.conf"), 'no newline at the end');
      writeFileSync(join(d, 'empty'), '');
      const sh = sshShells(pool).shell({
        name: 'test-host',
        address: '127.0.0.1',
        port: sshd.port,
        user: 'root',
        identityFile: sshd.clientKey,
        knownHostsFile: sshd.knownHosts,
      });
      const before = pool.totalCommands;
      const got = await readTexts(sh, [join(d, 'a.crt'), join(d, "it's b.conf"), join(d, 'missing'), join(d, 'empty'), join(d, 'a.crt')]);
      assert.equal(pool.totalCommands - before, 1);
      assert.deepEqual(
        [...got.entries()],
        [
          [join(d, 'a.crt'), '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n'],
          [join(d, "it's b.conf"), 'no newline at the end'],
          [join(d, 'empty'), ''],
        ],
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('stdin input is delivered (and not part of the command line)', async () => {
    const secret = 'SECRET-' + randomBytes(8).toString('hex');
    const r = await host.exec('cat', { input: secret });
    assert.equal(r.stdout, secret);
    assert.ok(events.every((ev) => !ev.sent.includes(secret) && !ev.command.includes(secret)));
  });

  test('timeout throws CommandTimeout and the connection stays usable', async () => {
    const t0 = Date.now();
    const e = await rejectsWith(host.exec('sleep 5; echo late', { timeoutMs: 300 }), CommandTimeout);
    assert.equal(e.name, 'CommandTimeout');
    assert.equal(e.timeoutMs, 300);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal((await host.exec('echo still-here')).stdout, 'still-here\n');
    // The remote process does not outlive its timeout (sshd ignores signal requests for root logins,
    // so the command is also bounded on the host).
    await rejectsWith(host.exec('sleep 41.7; echo late', { timeoutMs: 300 }), CommandTimeout);
    assert.equal(events.find((ev) => ev.command === 'sleep 41.7; echo late')?.sent.startsWith('timeout -k 5 1.3 sh -c '), true);
    await waitFor(() => !sleeping('sleep 41.7'), 4000);
  });

  test('one connection is reused for many commands (sequential and parallel beyond MaxSessions)', async () => {
    await host.exec('true'); // ensure connected
    const acceptedBefore = sshd.accepted();
    const connectsBefore = pool.stats().find((s) => s.label.startsWith('test-host'))!.connects;
    const countBefore = host.commandCount;
    for (let i = 0; i < 10; i++) await host.exec(`echo ${i}`);
    const par = await Promise.all(Array.from({ length: 30 }, (_, i) => host.exec(`echo p${i}`)));
    assert.deepEqual(
      par.map((r) => r.stdout),
      Array.from({ length: 30 }, (_, i) => `p${i}\n`),
    );
    assert.equal(host.commandCount - countBefore, 40);
    const st = pool.stats().find((s) => s.label.startsWith('test-host'))!;
    assert.equal(st.connects, connectsBefore);
    assert.equal(sshd.accepted(), acceptedBefore, 'no new SSH logins on the server');
    // The same RemoteHost is returned for the same user@host:port.
    assert.equal(pool.host({ ...target }), host);
  });

  test('reconnects transparently after the server-side connection is killed', async () => {
    await host.exec('true');
    const before = pool.stats()[0]!.connects;
    const kids = killChildren(sshd.proc.pid!);
    assert.ok(kids.length >= 1, 'found the per-connection sshd child');
    await waitFor(() => !pool.stats()[0]!.connected);
    assert.equal((await host.exec('echo back')).stdout, 'back\n');
    assert.equal(pool.stats()[0]!.connects, before + 1);
    // Kill again and issue a command immediately (the drop may not be noticed yet).
    killChildren(sshd.proc.pid!);
    const r = await host.exec('echo again').catch((e: Error) => e);
    if (r instanceof Error) {
      // Only acceptable if the command was already on the dying connection; the next one must work.
      assert.equal(r.name, 'ConnectionFailed');
      assert.equal((await host.exec('echo again')).stdout, 'again\n');
    } else {
      assert.equal(r.stdout, 'again\n');
    }
  });

  test('host key mismatch throws HostKeyMismatch naming both fingerprints', async () => {
    const other = join(sshd.dir, 'other_ed25519');
    keygen(other);
    const otherPub = readFileSync(other + '.pub', 'utf8')
      .trim()
      .split(' ');
    const kh = join(sshd.dir, 'known_hosts_wrong');
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${otherPub[0]} ${otherPub[1]}\n`);
    const p = new SshPool();
    try {
      const e = await rejectsWith(p.host({ ...target, knownHostsFile: kh }).exec('true'), HostKeyMismatch);
      assert.equal(e.name, 'HostKeyMismatch');
      const expectedFp = sshKeygenFingerprint(other + '.pub');
      assert.ok(e.message.includes(expectedFp), e.message);
      assert.ok(e.message.includes(sshd.hostFingerprint), e.message);
      assert.match(e.message, /test-host/);
      assert.match(e.message, /Fix:/);
      assert.deepEqual(e.expected, [expectedFp]);
      assert.equal(e.presented, sshd.hostFingerprint);
      assert.ok(NON_RETRYABLE_TYPES.includes(e.name));
      assert.equal(e.retryable, false);
    } finally {
      await p.close();
    }
  });

  test('a session idle for longer than reverifyAfterIdleMs is not reused: the host key is checked again', async () => {
    const kh = join(sshd.dir, 'known_hosts_changing');
    writeFileSync(kh, readFileSync(sshd.knownHosts));
    const p = new SshPool({ reverifyAfterIdleMs: 300 });
    try {
      const h = p.host({ ...target, knownHostsFile: kh });
      await h.exec('true');
      await h.exec('true');
      assert.equal(p.stats()[0]!.connects, 1, 'a busy session is reused');
      await new Promise((r) => setTimeout(r, 500));
      await h.exec('true');
      assert.equal(p.stats()[0]!.connects, 2, 'an idle one is replaced');
      // The host "changes its key" while the worker holds a session: the next command after the idle period sees it.
      const other = join(sshd.dir, 'reverify_ed25519');
      keygen(other);
      const [type, key] = readFileSync(other + '.pub', 'utf8')
        .trim()
        .split(' ');
      writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${type} ${key}\n`);
      await h.exec('true');
      assert.equal(p.stats()[0]!.connects, 2, 'within the idle limit the session stays');
      await new Promise((r) => setTimeout(r, 500));
      const e = await rejectsWith(h.exec('true'), HostKeyMismatch);
      assert.ok(e.message.includes(sshd.hostFingerprint), e.message);
    } finally {
      await p.close();
    }
  });

  test('a channel the server refuses for now (MaxSessions) is asked for again, and every command runs', async () => {
    const narrow = await startSshd({ maxSessions: 2 });
    const p = new SshPool();
    try {
      const h = p.host({ ...target, port: narrow.port, knownHostsFile: narrow.knownHosts, identityFile: narrow.clientKey });
      const outs = await Promise.all(Array.from({ length: 6 }, (_, i) => h.exec(`sleep 0.1; echo ${i}`)));
      assert.deepEqual(
        outs.map((r) => r.stdout.trim()),
        ['0', '1', '2', '3', '4', '5'],
      );
    } finally {
      await p.close();
      await narrow.stop();
    }
  });

  test('pinned fingerprints: right one connects, wrong one is a mismatch', async () => {
    const p = new SshPool();
    try {
      const ok = p.host({ ...target, knownHostsFile: undefined, fingerprints: [sshd.hostFingerprint] });
      assert.equal((await ok.exec('echo pinned')).stdout, 'pinned\n');
      const bad = p.host({
        ...target,
        user: 'root',
        port: sshd.port,
        host: 'localhost',
        knownHostsFile: undefined,
        fingerprints: ['SHA256:' + 'A'.repeat(43)],
      });
      const e = await rejectsWith(bad.exec('true'), HostKeyMismatch);
      assert.ok(e.message.includes(sshd.hostFingerprint));
      assert.ok(e.message.includes('SHA256:' + 'A'.repeat(43)));
    } finally {
      await p.close();
    }
  });

  test('known_hosts with only an RSA key: the RSA host key is negotiated and accepted', async () => {
    const rsaPub = readFileSync(join(sshd.dir, 'host_rsa.pub'), 'utf8').trim().split(' ');
    const kh = join(sshd.dir, 'known_hosts_rsa');
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${rsaPub[0]} ${rsaPub[1]}\n`);
    const p = new SshPool();
    try {
      assert.equal((await p.host({ ...target, knownHostsFile: kh }).exec('echo rsa')).stdout, 'rsa\n');
    } finally {
      await p.close();
    }
  });

  test('unknown host throws HostKeyUnknown', async () => {
    const kh = join(sshd.dir, 'known_hosts_other');
    writeFileSync(kh, `other.example ${sshd.hostPub.split(' ').slice(0, 2).join(' ')}\n`);
    const p = new SshPool();
    try {
      const e = await rejectsWith(p.host({ ...target, name: undefined, knownHostsFile: kh }).exec('true'), HostKeyUnknown);
      assert.equal(e.name, 'HostKeyUnknown');
      assert.ok(e.message.includes(sshd.hostFingerprint));
      const e2 = await rejectsWith(
        p.host({ ...target, host: 'localhost', name: undefined, knownHostsFile: join(sshd.dir, 'nope') }).exec('true'),
        HostKeyUnknown,
      );
      assert.match(e2.message, /missing/);
    } finally {
      await p.close();
    }
  });

  test('an unreadable identity file is a non-retryable SshConfigError', async () => {
    const p = new SshPool();
    try {
      const e = await rejectsWith(p.host({ ...target, identityFile: join(sshd.dir, 'no-such-key') }).exec('true'), SshConfigError);
      assert.equal(e.name, 'SshConfigError');
      assert.equal(e.retryable, false);
      assert.match(e.message, /Cannot read SSH identity file .*no-such-key: ENOENT/);
      assert.ok(NON_RETRYABLE_TYPES.includes(e.name));
    } finally {
      await p.close();
    }
  });

  test('a target without credentials takes the shared defaults: ~/.ssh/id_* before the agent', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hardway-home-'));
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'id_ecdsa'), readFileSync(sshd.clientKey), { mode: 0o600 });
    const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
    process.env.HOME = home;
    process.env.SSH_AUTH_SOCK = join(home, 'no-agent.sock'); // an agent that is not there: must not be preferred
    const p = new SshPool();
    try {
      const { identityFile: _none, ...bare } = target;
      assert.equal((await p.host(bare).exec('echo defaults')).stdout, 'defaults\n');
    } finally {
      await p.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('wrong client key throws AuthenticationFailed; closed port throws ConnectionFailed', async () => {
    const stranger = join(sshd.dir, 'stranger_ed25519');
    keygen(stranger);
    const p = new SshPool();
    try {
      const e = await rejectsWith(p.host({ ...target, identityFile: stranger }).exec('true'), AuthenticationFailed);
      assert.equal(e.name, 'AuthenticationFailed');
      const port = await freePort();
      const c = await rejectsWith(p.host({ ...target, port }).exec('true'), ConnectionFailed);
      assert.equal(c.name, 'ConnectionFailed');
      assert.equal(c.code, 'ECONNREFUSED');
      assert.equal(c.retryable, true);
      // What to do next, with the command to try.
      assert.ok(c.message.includes(`try: ssh -p ${port} ${target.user}@${target.host})`), c.message);
    } finally {
      await p.close();
    }
  });

  test('putFile: creates 0600 with the right content, idempotent, fixes mode alone, never sends content in argv', async () => {
    const dir = join(sshd.dir, 'files', 'nested dir');
    const path = join(dir, "key's.pem");
    const secret = `-----BEGIN PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    events.length = 0;

    const c0 = host.commandCount;
    const r1 = await putFile(host, path, secret, { mode: '0600' });
    assert.deepEqual(r1, { changed: true, action: 'created' });
    assert.equal(host.commandCount - c0, 2, 'one check + one write');
    assert.equal(readFileSync(path, 'utf8'), secret);
    assert.equal(statSync(path).mode & 0o7777, 0o600);
    assert.equal(statSync(path).uid, 0);

    const c1 = host.commandCount;
    const r2 = await putFile(host, path, secret, { mode: '0600' });
    assert.deepEqual(r2, { changed: false, action: 'unchanged' });
    assert.equal(host.commandCount - c1, 1, 'only the check, no write');

    chmodSync(path, 0o644);
    const c2 = host.commandCount;
    const r3 = await putFile(host, path, secret, { mode: '0600' });
    assert.deepEqual(r3, { changed: true, action: 'metadata' });
    assert.equal(host.commandCount - c2, 2);
    assert.equal(statSync(path).mode & 0o7777, 0o600);
    const last = events[events.length - 1]!;
    assert.match(last.command, /chmod 0600/);
    assert.equal(last.inputBytes, 0);

    const r4 = await putFile(host, path, secret + 'more\n', { mode: '0600' });
    assert.deepEqual(r4, { changed: true, action: 'updated' });
    assert.equal(readFileSync(path, 'utf8'), secret + 'more\n');

    // No temp files left behind, and the secret never appeared in any command line.
    assert.deepEqual(readdirSync(dir), ["key's.pem"]);
    assert.ok(events.length >= 6);
    for (const ev of events) {
      assert.ok(!ev.sent.includes(secret.slice(30, 60)), `content leaked into: ${ev.sent.slice(0, 80)}`);
    }
    assert.ok(events.some((ev) => ev.inputBytes === Buffer.byteLength(secret)));
  });

  test('putFile: a connection cut in the middle of an upload leaves neither a half-written file nor its temporary; the retry completes', async () => {
    const d = mkdtempSync(join(tmpdir(), 'hardway-cut-'));
    const p = new SshPool();
    try {
      const h = p.host(target);
      const path = join(d, 'big.bin');
      writeFileSync(path, 'the old content\n');
      const big = randomBytes(48 * 1024 * 1024);
      const upload = putFile(h, path, big, { mode: '0644' });
      // Cut the connection once the upload is under way: its temporary file is there and still growing.
      const conn = await p.connection(target);
      const temp = () => readdirSync(d).find((f) => f.startsWith('.big.bin.hardway.'));
      for (let i = 0; i < 200 && !(temp() && statSync(join(d, temp()!)).size > 0); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(temp(), 'the upload had started');
      assert.ok(statSync(join(d, temp()!)).size < big.length, 'and was not finished');
      conn.client.destroy();
      await assert.rejects(upload, ConnectionFailed);
      // The host side ends on its own (its stdin closes): wait for it, then look.
      const leftovers = () => readdirSync(d).filter((f) => f !== 'big.bin');
      for (let i = 0; i < 50 && leftovers().length; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(readFileSync(path, 'utf8'), 'the old content\n', 'the target is whole: the old content');
      assert.deepEqual(leftovers(), [], 'no temporary file is left');
      // The retry (a new connection) completes.
      const r = await putFile(p.host(target), path, big, { mode: '0644' });
      assert.equal(r.changed, true);
      assert.ok(readFileSync(path).equals(big));
      assert.deepEqual(leftovers(), []);
    } finally {
      await p.close();
      rmSync(d, { recursive: true, force: true });
    }
  });

  test('putFile: owner/group, binary content, replaces a symlink, refuses a directory', async () => {
    const dir = join(sshd.dir, 'files2');
    const bin = randomBytes(70_000);
    const p1 = join(dir, 'blob.bin');
    assert.equal((await putFile(host, p1, bin, { mode: '0640', owner: 'root', group: '0' })).changed, true);
    assert.ok(readFileSync(p1).equals(bin));
    assert.equal(statSync(p1).mode & 0o7777, 0o640);
    assert.equal((await putFile(host, p1, bin, { mode: '0640', owner: 'root', group: '0' })).changed, false);
    const nobody = (await putFile(host, p1, bin, { mode: '0640', owner: 'nobody', group: 'root' })).action;
    assert.equal(nobody, 'metadata');
    assert.equal(statSync(p1).uid, Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()));

    const link = join(dir, 'link');
    execFileSync('ln', ['-s', p1, link]);
    assert.equal((await putFile(host, link, 'plain\n')).action, 'updated');
    assert.equal(readFileSync(link, 'utf8'), 'plain\n');
    assert.ok(readFileSync(p1).equals(bin), 'symlink target untouched');

    mkdirSync(join(dir, 'adir'));
    await rejectsWith(putFile(host, join(dir, 'adir'), 'x'), CommandFailed);
    await assert.rejects(putFile(host, 'relative/path', 'x'), /absolute/);
  });

  test('putFiles: one command to check many files; a converged re-run costs one command', async () => {
    const dir = join(sshd.dir, 'files3');
    const files = Array.from({ length: 5 }, (_, i) => ({ path: join(dir, `f${i}`), content: `content ${i}\n`, mode: '0644' }));
    const c0 = host.commandCount;
    const r1 = await putFiles(host, files);
    assert.ok(r1.every((r) => r.changed));
    assert.equal(host.commandCount - c0, 1 + 5);
    const c1 = host.commandCount;
    const r2 = await putFiles(host, files);
    assert.ok(r2.every((r) => !r.changed));
    assert.equal(host.commandCount - c1, 1);
  });

  test('readFile / fileSha256 / statFile', async () => {
    const dir = join(sshd.dir, 'files4');
    mkdirSync(dir, { recursive: true });
    const p = join(dir, 'data');
    const bin = Buffer.concat([Buffer.from([0, 255, 10, 13]), randomBytes(5000)]);
    writeFileSync(p, bin);
    const got = await readFile(host, p);
    assert.ok(got && got.equals(bin));
    assert.equal(await readFile(host, join(dir, 'missing')), null);
    const sha = execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(await fileSha256(host, p), sha);
    assert.equal(await fileSha256(host, join(dir, 'missing')), null);
    const st = await statFile(host, p);
    assert.equal(st.exists, true);
    assert.equal(st.sha256, sha);
    assert.equal(st.owner, 'root');
    writeFileSync(join(dir, 'empty'), '');
    assert.deepEqual(await readFile(host, join(dir, 'empty')), Buffer.alloc(0));
  });
});

describe('exec helpers (no sshd)', () => {
  test('shellQuote survives a round trip through sh', () => {
    for (const s of ['a b', "it's", '$(rm -rf /)', 'back\\slash', 'new\nline', '', 'plain-ok_1.2/x:y', '"dq"', '`tick`', '*']) {
      const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' });
      assert.equal(out, s);
    }
  });

  test('non-root users get sudo -n sh -c with the command quoted', () => {
    const fake = {
      connection: () => Promise.reject(new Error('unused')),
      discard: () => undefined,
      countCommand: () => undefined,
    };
    const h = new RemoteHost(fake, { host: 'h', port: 22, user: 'vagrant' });
    assert.equal(h.wrap("echo 'x' > /etc/y"), `sudo -n sh -c 'echo '\\''x'\\'' > /etc/y'`);
    assert.equal(h.wrap('sleep 1', true, 2500), `sudo -n timeout -k 5 3.5 sh -c 'sleep 1'`);
    assert.equal(h.wrap('id', false), 'id');
    const out = execFileSync('sh', ['-c', h.wrap("printf '%s' \"a'b\"").replace(/^sudo -n /, '')], { encoding: 'utf8' });
    assert.equal(out, "a'b");
    const root = new RemoteHost(fake, { host: 'h', port: 22, user: 'root' });
    assert.equal(root.wrap('id'), 'id');
  });
});
