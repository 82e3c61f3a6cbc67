// runStep (activities/step.ts) and the error classes (model/errors.ts): retryability decided by the class, the
// workflow's non-retryable list derived from the classes, what earlier attempts changed kept through heartbeats,
// and a step that runs outside Temporal (a dry run).
//   node --import tsx --test test/unit/activities-step.test.ts
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';

import * as activityErrors from '../../activities/errors.js';
import { createActivities } from '../../activities/index.js';
import { runStep, type StepHeartbeat } from '../../activities/step.js';
import type { HostCertificatesInput, StepFailureDetails, StepReport } from '../../activities/types.js';
import * as modelErrors from '../../model/errors.js';
import { ConfigurationError, ERROR_CLASSES, HardwayError, NON_RETRYABLE_TYPES, NotReady, PreflightFailed } from '../../model/errors.js';
import * as remoteErrors from '../../remote/errors.js';
import { CommandFailed, ConnectionFailed, HostKeyMismatch, SshConfigError } from '../../remote/errors.js';
import { MemoryLab } from '../helpers/memory-host.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Runs a step body in a mock activity and returns what it threw (an ApplicationFailure) or its report. */
async function inActivity<R>(fn: () => Promise<R>, info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {}) {
  const env = new MockActivityEnvironment(info, { logger: quiet });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  try {
    return { result: await env.run(fn), heartbeats };
  } catch (error) {
    return { error, heartbeats };
  }
}

function failureOf(error: unknown): ApplicationFailure {
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  return error;
}

const failWith = (e: unknown) => () =>
  runStep('h1', async () => {
    throw e;
  });

describe('what a failed step shows the operator', () => {
  it("a failure hardway names carries its message, not the worker's stack; any other error keeps its stack", async () => {
    const named = failureOf((await inActivity(failWith(new ConnectionFailed('h1 (10.0.0.1)', 'EHOSTUNREACH')))).error);
    assert.equal(named.stack, `ConnectionFailed: ${named.message}`);
    const bug = failureOf((await inActivity(failWith(new TypeError("Cannot read properties of undefined (reading 'x')")))).error);
    assert.equal(bug.type, 'TypeError');
    assert.match(bug.stack ?? '', /\n\s+at /, 'an unexpected error keeps the stack a bug report needs');
  });
});

describe('retryability is decided by the error class', () => {
  it('an unreadable identity file (SshConfigError) fails the step non-retryably', async () => {
    const { error } = await inActivity(
      failWith(new SshConfigError('h1 (10.0.0.1)', 'Cannot read SSH identity file /nope: ENOENT. Fix: ssh.identityFile.')),
    );
    const f = failureOf(error);
    assert.equal(f.type, 'SshConfigError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /^h1: Cannot read SSH identity file/);
  });

  it('NotReady, a lost connection and a failed command are retried', async () => {
    for (const e of [
      new NotReady('etcd is starting'),
      new ConnectionFailed('h1', 'refused'),
      new CommandFailed('h1', { command: 'false', exitCode: 1, stderr: '', stdout: '' }),
    ]) {
      const f = failureOf((await inActivity(failWith(e))).error);
      assert.equal(f.type, e.name);
      assert.equal(f.nonRetryable, false, e.name);
    }
  });

  it('an unknown error (plain Error, TypeError) is retried', async () => {
    for (const e of [new Error('boom'), new TypeError('x is undefined')]) {
      const f = failureOf((await inActivity(failWith(e))).error);
      assert.equal(f.type, e.name);
      assert.equal(f.nonRetryable, false);
    }
  });

  it('ConfigurationError, PreflightFailed and a host key mismatch are not retried', async () => {
    const mismatch = new HostKeyMismatch('h1', {
      expected: ['SHA256:a'],
      presented: 'SHA256:b',
      keyType: 'ssh-ed25519',
      source: 'known_hosts',
    });
    for (const e of [new ConfigurationError('wrong'), new PreflightFailed('too little memory'), mismatch]) {
      const f = failureOf((await inActivity(failWith(e))).error);
      assert.equal(f.type, e.name);
      assert.equal(f.nonRetryable, true, e.name);
    }
  });

  it('a certificate placement missing from the input fails in render, non-retryably, before any host is read', async () => {
    const lab = new MemoryLab([
      { name: 'etcd-1', address: '10.0.0.11' },
      { name: 'ca', address: '10.0.0.10' },
    ]);
    const target = (name: string, address: string) => ({ name, address, user: 'root', port: 22 });
    const input: HostCertificatesInput = {
      cluster: 'c',
      target: target('etcd-1', '10.0.0.11'),
      ca: { target: target('ca', '10.0.0.10'), authorities: { ca: { certPath: '/ca.crt', keyPath: '/ca.key' } } },
      certificates: [
        {
          id: 'etcd-server-etcd-2',
          commonName: 'etcd-2',
          dnsNames: [],
          ipAddresses: [],
          usages: ['serverAuth'],
          isCA: false,
          validityDays: 365,
          placements: [{ host: 'etcd-2', certPath: '/s.crt', keyPath: '/s.key', caPath: '/ca.crt' }],
        },
      ],
    };
    const { error } = await inActivity(() => createActivities(lab)['pki/certificates'](input));
    const f = failureOf(error);
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /etcd-server-etcd-2 is not placed on etcd-1/);
    assert.deepEqual(lab.host('ca').log, []);
    assert.deepEqual(lab.host('etcd-1').log, []);
  });
});

describe('the non-retryable failure types are derived from the classes', () => {
  // Every error class the three modules export (the layers' own modules re-export model/errors.ts).
  const exported = [...new Set([modelErrors, remoteErrors, activityErrors].flatMap((m) => Object.values(m)))].filter(
    (v): v is modelErrors.HardwayErrorClass => typeof v === 'function' && v.prototype instanceof HardwayError,
  );

  it('contains exactly the classes that say a retry cannot help', () => {
    assert.deepEqual([...NON_RETRYABLE_TYPES].sort(), [
      'AuthenticationFailed',
      'ConfigurationError',
      'HostKeyMismatch',
      'HostKeyUnknown',
      'PreflightFailed',
      'SshConfigError',
    ]);
    const fromClasses = exported
      .filter((c) => Object.prototype.hasOwnProperty.call(c.prototype, 'retryable') && !c.prototype.retryable)
      .map((c) => c.prototype.name);
    assert.deepEqual([...NON_RETRYABLE_TYPES].sort(), fromClasses.sort());
  });

  it('every concrete error class declares its own failure type, and the list knows them all', () => {
    const concrete = exported.filter((c) => c !== remoteErrors.RemoteError);
    for (const c of concrete) {
      assert.ok(Object.prototype.hasOwnProperty.call(c.prototype, 'name'), `${c.name} declares no failure type`);
      assert.equal(c.prototype.name, c.name, 'the failure type is the class name');
      assert.ok(ERROR_CLASSES.includes(c), `${c.name} is missing from ERROR_CLASSES`);
    }
    assert.equal(ERROR_CLASSES.length, concrete.length);
  });

  it('the module the workflow imports is pure', async () => {
    const { readFileSync } = await import('node:fs');
    const src = readFileSync(new URL('../../model/errors.ts', import.meta.url), 'utf8');
    assert.deepEqual([...src.matchAll(/^import .*$/gm)], []);
  });
});

describe('a retried step keeps what earlier attempts changed', () => {
  it('heartbeats what it changed as it goes, and reports the union with the earlier attempts', async () => {
    const { result, heartbeats } = await inActivity(
      () =>
        runStep('h1', async (ctx) => {
          assert.deepEqual(ctx.earlier, ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl']);
          ctx.changed('/usr/local/bin/etcdctl');
          ctx.changed('/etc/systemd/system/etcd.service');
        }),
      { attempt: 2, heartbeatDetails: { changed: ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl'] } satisfies StepHeartbeat },
    );
    const report = result as StepReport;
    assert.equal(report.attempt, 2);
    assert.deepEqual(report.changed, ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl', '/etc/systemd/system/etcd.service']);
    assert.deepEqual(heartbeats.at(-1), { changed: ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl', '/etc/systemd/system/etcd.service'] });
    assert.deepEqual(heartbeats[0], { changed: ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl'] }, 'each change is heartbeaten at once');
  });

  it("a failure carries { attempt, changed } with the earlier attempts' changes", async () => {
    const { error } = await inActivity(
      () =>
        runStep('h1', async (ctx) => {
          ctx.changed('/etc/hosts');
          throw new NotReady('names do not resolve yet');
        }),
      { attempt: 3, heartbeatDetails: { changed: ['/usr/local/bin/etcd'] } },
    );
    const f = failureOf(error);
    assert.deepEqual(f.details, [{ attempt: 3, changed: ['/usr/local/bin/etcd', '/etc/hosts'] } satisfies StepFailureDetails]);
  });

  it('progress notes keep the changes in the heartbeat; details of another shape are no changes', async () => {
    const { result, heartbeats } = await inActivity(
      () =>
        runStep('h1', async (ctx) => {
          ctx.changed('a');
          ctx.progress('downloading');
        }),
      { attempt: 2, heartbeatDetails: 'uploading etcd' },
    );
    assert.deepEqual((result as StepReport).changed, ['a']);
    assert.deepEqual(heartbeats.at(-1), { changed: ['a'], note: 'downloading' });
  });
});

describe('outside an activity (a dry run)', () => {
  it('runs the body with attempt 1 and no earlier changes, and fails the same way', async () => {
    const report = await runStep('h1', async (ctx) => {
      assert.equal(ctx.attempt, 1);
      assert.deepEqual(ctx.earlier, []);
      ctx.changed('x');
      ctx.progress('no heartbeat here');
    });
    assert.deepEqual(report, { host: 'h1', changed: ['x'], notes: [], attempt: 1 });
    await assert.rejects(
      runStep('h1', async (ctx) => {
        ctx.changed('y');
        throw new ConfigurationError('wrong');
      }),
      (e: unknown) =>
        failureOf(e).nonRetryable && JSON.stringify(failureOf(e).details) === JSON.stringify([{ attempt: 1, changed: ['y'] }]),
    );
  });
});
