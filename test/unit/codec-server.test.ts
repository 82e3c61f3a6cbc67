// hardway's codec server over real HTTP, as the Temporal UI's Data Encoder calls it: proto-JSON payloads in and out,
// CORS for the UI's origin only, and a clear 4xx for a request it cannot serve.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { Keyring } from '../../temporal/codec-keys.js';
import { startCodecServer } from '../../temporal/codec-server.js';
import { EncryptionCodec } from '../../temporal/payload-codec.js';

const UI = 'http://localhost:8233';
const codec = new EncryptionCodec(new Keyring([{ id: 'k1', key: randomBytes(32) }], 'the test keys'));
let server: Awaited<ReturnType<typeof startCodecServer>>;
let base: string;
before(async () => {
  server = await startCodecServer({ codec, origins: [UI], port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});
after(() => server?.close());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', origin: UI, 'x-namespace': 'default', ...headers },
  });

/** A payload as the UI sends it: proto JSON, bytes in base64. */
const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
  data: Buffer.from(p.data!).toString('base64'),
});
const jsonPayload = (value: unknown) => asJson(defaultPayloadConverter.toPayload(value));

describe('codec server', () => {
  it('encodes and decodes the payloads of a request, in the JSON the UI sends', async () => {
    const value = { host: 'etcd-1', address: '10.240.0.11' };
    const enc = await post('/encode', JSON.stringify({ payloads: [jsonPayload(value)] }));
    assert.equal(enc.status, 200);
    assert.equal(enc.headers.get('access-control-allow-origin'), UI);
    const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    assert.ok(!JSON.stringify(encoded).includes('10.240.0.11'));
    assert.ok(!Buffer.from(encoded.payloads[0]!.data, 'base64').includes('10.240.0.11'));
    // The UI puts the namespace in the path or in X-Namespace: both are served.
    const dec = await post('/default/decode', JSON.stringify(encoded));
    assert.equal(dec.status, 200);
    assert.deepEqual(await dec.json(), { payloads: [jsonPayload(value)] });
  });

  it('answers the preflight of the UI origin with the headers the browser needs, and grants no other origin', async () => {
    const pre = await fetch(`${base}/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), UI);
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-methods')!, /POST/);
    assert.match(pre.headers.get('access-control-allow-methods')!, /OPTIONS/);
    for (const h of ['content-type', 'x-namespace', 'authorization'])
      assert.match(pre.headers.get('access-control-allow-headers')!, new RegExp(h));
    const other = await fetch(`${base}/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('refuses what it cannot serve with a message: bad JSON, no payloads, a wrong method or path, an unknown key', async () => {
    const bad = await post('/decode', '{not json');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('access-control-allow-origin'), UI, 'the UI can read the error');
    assert.match(((await bad.json()) as { error: string }).error, /the body is not JSON/);
    const none = await post('/decode', '{"payload": []}');
    assert.equal(none.status, 400);
    assert.match(((await none.json()) as { error: string }).error, /no "payloads" array/);
    const notB64 = await post('/decode', '{"payloads": [{"data": 5}]}');
    assert.equal(notB64.status, 400);
    assert.equal((await fetch(`${base}/decode`)).status, 405);
    assert.equal((await post('/other', '{}')).status, 404);
    const foreign = await new EncryptionCodec(new Keyring([{ id: 'k9', key: randomBytes(32) }], 'elsewhere')).encode([
      defaultPayloadConverter.toPayload('x'),
    ]);
    const unknown = await post('/decode', JSON.stringify({ payloads: foreign.map(asJson) }));
    assert.equal(unknown.status, 422);
    assert.match(((await unknown.json()) as { error: string }).error, /encrypted with key 'k9', which is not in the test keys/);
  });
});
