// Payload encryption against a real Temporal dev server: a bring-up (activity doubles) run by an encrypting client and
// worker leaves a history in which no host address is clear text, not even in a failure's message; the same keys
// read it back, and a client with other keys gets an error naming the key, not garbage.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { applySpec, follow } from '../../cli/cluster-ops.js';
import { writeNewKey } from '../../temporal/codec-keys.js';
import { connectClient, temporalOptions } from '../../temporal/connection.js';
import { TASK_QUEUE, workflowIdFor } from '../../temporal/constants.js';
import { dataConverterFor } from '../../temporal/data-converter.js';
import { statusQuery } from '../../workflows/status.js';
import { workflowsPath } from '../../worker.js';
import { devServer } from '../helpers/temporal.js';
import { activityDoubles, type CallRecord } from './fixtures/doubles.js';
import { seedSpec } from './helpers.js';

const { temporal } = proto;
let env: TestWorkflowEnvironment;
const dir = mkdtempSync(join(tmpdir(), 'hardway-encrypted-'));
before(async () => {
  env = await devServer();
});
after(async () => {
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Every payload of a history, wherever it sits (inputs, results, failures, summaries), but two kinds that never pass
 * the codec: search attributes, which the server indexes (hardway's hold the cluster's name and phase), and the patch
 * markers the SDK's core records (a patch id). The raw-bytes check covers those.
 */
const PAST_THE_CODEC = ['searchAttributes', 'markerRecordedEventAttributes'];
function payloadsOf(v: unknown, found: Payload[] = []): Payload[] {
  if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) return found;
  const o = v as { metadata?: unknown; data?: unknown };
  if (o.metadata && typeof o.metadata === 'object' && o.data instanceof Uint8Array) found.push(o as Payload);
  else for (const [k, x] of Object.entries(v)) if (!PAST_THE_CODEC.includes(k)) payloadsOf(x, found);
  return found;
}

describe('encrypted payloads', () => {
  it('keep host addresses out of the history; the keys read it back, other keys fail clearly', async () => {
    const keyFile = join(dir, 'codec.keys');
    writeNewKey(keyFile, { id: 'k1' });
    const topts = temporalOptions({ address: env.address, codecKeyFile: keyFile }, {});
    assert.ok(topts.codec, 'a key file turns encryption on');
    const spec = seedSpec('secret');
    const addresses = spec.hosts.map((h) => h.address);
    const calls: CallRecord[] = [];
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: workflowsPath(),
      dataConverter: dataConverterFor(topts.codec),
      activities: activityDoubles(calls, {
        // A failure that names a host's address, as an SSH error does: its message must not be clear text either.
        failFirst: [
          {
            activity: 'hosts/hosts-file',
            host: 'lb',
            times: 1,
            type: 'ConnectionFailed',
            message: `ssh root@${spec.hosts[4]!.address}:22: ECONNREFUSED`,
          },
        ],
      }),
    });
    const client = await connectClient(topts);
    const handle = client.workflow.getHandle(workflowIdFor(spec.name));
    await worker.runUntil(async () => {
      const { result, status } = await follow(await applySpec(client, spec), () => {});
      assert.equal(result.outcome, 'converged');
      assert.equal(status.steps.find((s) => s.name === 'hosts/hosts-file/lb')?.attempts, 2, 'the failure was seen and retried');
      // With the key, a client reads the workflow as before.
      assert.equal((await handle.query(statusQuery)).podAllocations?.['cp-1'], '10.244.0.0/24');
      assert.match(String(await (await handle.describe()).staticDetails()), /192\.168\.56\.0\/24/);

      // Another key under the same id, and a key ring without k1: each a clear error, not garbage.
      const impostor = join(dir, 'impostor.keys');
      writeNewKey(impostor, { id: 'k1' });
      const rotatedAway = join(dir, 'other.keys');
      writeNewKey(rotatedAway, { id: 'k2' });
      for (const [file, message] of [
        [impostor, /does not decrypt with the key 'k1' of the key file .*impostor\.keys/],
        [rotatedAway, /encrypted with key 'k1', which is not in the key file .*other\.keys \(it holds 'k2'\)/],
      ] as const) {
        const wrong = await connectClient(temporalOptions({ address: env.address, codecKeyFile: file }, {}));
        const theirs = wrong.workflow.getHandle(workflowIdFor(spec.name));
        try {
          await assert.rejects(theirs.query(statusQuery), message);
          await assert.rejects(
            theirs.describe().then((d) => d.staticDetails()),
            message,
          );
        } finally {
          await wrong.connection.close();
        }
      }
    });
    await client.connection.close();

    // Without the key: the raw history, every byte of it.
    const history = await env.client.workflow.getHandle(workflowIdFor(spec.name)).fetchHistory();
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    for (const a of [...addresses, '10.244.0.0', 'ECONNREFUSED']) assert.ok(!raw.includes(a), `${a} is clear text in the history`);
    assert.ok(raw.includes('binary/encrypted'));
    const payloads = payloadsOf(history.events);
    assert.ok(payloads.length > 50);
    for (const p of payloads) assert.equal(Buffer.from(p.metadata!.encoding!).toString(), 'binary/encrypted');
    const started = history.events!.find((e) => e.activityTaskStartedEventAttributes?.lastFailure)!.activityTaskStartedEventAttributes!;
    assert.equal(started.lastFailure!.message, 'Encoded failure', 'the failure message is in its encrypted attributes');

    // With the key, the history's payloads decode to the addresses, the failure to its message.
    const clear = (await topts.codec!.decode(payloads)).map((p) => JSON.stringify(defaultPayloadConverter.fromPayload(p)));
    for (const a of addresses)
      assert.ok(
        clear.some((t) => t.includes(a)),
        `${a} decodes back`,
      );
    const [failure] = await topts.codec!.decode([started.lastFailure!.encodedAttributes!]);
    assert.match(JSON.stringify(defaultPayloadConverter.fromPayload(failure!)), /ssh root@192\.168\.56\.\d+:22: ECONNREFUSED/);
  });
});
