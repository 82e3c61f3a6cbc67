// The payload codec and its keys: AES-256-GCM round trips, rotation by key id, and clear errors (never garbage) for a
// missing key, another key under the same id, an altered payload, and a bad key file. Keys are made here, at run time.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { CodecKeyError, Keyring, keySource, loadKeyring, parseKeyring, writeNewKey } from '../../temporal/codec-keys.js';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError } from '../../temporal/payload-codec.js';
import { payloadCodecFor } from '../../temporal/data-converter.js';

const key = () => randomBytes(32);
const ring = (...ids: string[]) =>
  new Keyring(
    ids.map((id) => ({ id, key: key() })),
    'the test keys',
  );
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const host = { name: 'etcd-1', address: '10.240.0.11', roles: ['etcd'] };
const payload = (): Payload => defaultPayloadConverter.toPayload(host);
const dirs: string[] = [];
const tmp = () => dirs[dirs.push(mkdtempSync(join(tmpdir(), 'hardway-codec-'))) - 1]!;
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('payload codec', () => {
  it('encrypts the whole payload and decrypts it back, with a fresh IV each time', async () => {
    const codec = new EncryptionCodec(ring('k1'));
    const [a, b] = await codec.encode([payload(), payload()]);
    assert.equal(text(a!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(a!.metadata![KEY_ID_METADATA]), 'k1');
    assert.deepEqual(Object.keys(a!.metadata!).sort(), ['encoding', KEY_ID_METADATA]);
    for (const clear of ['10.240.0.11', 'etcd-1', 'json/plain'])
      assert.ok(!Buffer.from(a!.data!).includes(clear), `${clear} in clear text`);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!), 'two encryptions of one payload differ');
    const [back] = await codec.decode([a!]);
    assert.equal(text(back!.metadata!.encoding), 'json/plain');
    assert.deepEqual(defaultPayloadConverter.fromPayload(back!), host);
  });

  it('passes payloads that are not encrypted through unchanged (histories from before encryption)', async () => {
    const codec = new EncryptionCodec(ring('k1'));
    const plain = payload();
    const [out] = await codec.decode([plain]);
    assert.equal(out, plain);
  });

  it('decrypts with every key of the ring and encrypts with the current one (rotation)', async () => {
    const k1 = key();
    const k2 = key();
    const before = new EncryptionCodec(new Keyring([{ id: 'k1', key: k1 }], 'old'));
    const after = new EncryptionCodec(
      new Keyring(
        [
          { id: 'k2', key: k2 },
          { id: 'k1', key: k1 },
        ],
        'new',
      ),
    );
    const [old] = await before.encode([payload()]);
    const [fresh] = await after.encode([payload()]);
    assert.equal(text(fresh!.metadata![KEY_ID_METADATA]), 'k2');
    const decoded = await after.decode([old!, fresh!]);
    for (const p of decoded) assert.deepEqual(defaultPayloadConverter.fromPayload(p), host);
  });

  it('names the key id and the fix when the key is not in the ring', async () => {
    const [p] = await new EncryptionCodec(ring('k1')).encode([payload()]);
    const other = new EncryptionCodec(new Keyring([{ id: 'k2', key: key() }], 'the key file /etc/hardway/codec.keys'));
    await assert.rejects(other.decode([p!]), (e: Error) => {
      assert.ok(e instanceof PayloadDecryptionError);
      assert.match(e.message, /encrypted with key 'k1', which is not in the key file \/etc\/hardway\/codec\.keys \(it holds 'k2'\)/);
      assert.match(e.message, /--codec-key-file/);
      return true;
    });
  });

  it('refuses another key under the same id, and an altered payload, with a clear error', async () => {
    const codec = new EncryptionCodec(ring('k1'));
    const [p] = await codec.encode([payload()]);
    const impostor = new EncryptionCodec(ring('k1'));
    await assert.rejects(impostor.decode([p!]), /does not decrypt with the key 'k1' of the test keys: .* or the payload was altered/);
    const altered = Buffer.from(p!.data!);
    altered[20]! ^= 1;
    await assert.rejects(codec.decode([{ ...p!, data: altered }]), /payload was altered/);
    await assert.rejects(codec.decode([{ ...p!, data: altered.subarray(0, 10) }]), /too short/);
    const noId = { metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: p!.data };
    await assert.rejects(codec.decode([noId]), /names no key id/);
  });
});

describe('codec keys', () => {
  const b64 = (n = 32) => randomBytes(n).toString('base64');

  it('reads a key file: comments, blank lines, the first key current', () => {
    const r = parseKeyring(`# keys\n\nk2:${b64()}\nk1:${b64()}  # the old one\n`, 'f');
    assert.equal(r.currentId, 'k2');
    assert.deepEqual(r.ids, ['k2', 'k1']);
    assert.equal(r.currentKey.length, 32);
  });

  it('rejects a key that is not 32 bytes, not base64, a bad id, a repeated id, and an empty file, naming the source', () => {
    const cases: [string, RegExp][] = [
      [`k1:${b64(16)}`, /the key file x, line 1: the key 'k1' is 16 bytes; an AES-256 key is exactly 32 bytes/],
      [`k1:not*base64`, /the key 'k1' is not base64/],
      [b64(), /expected "id:base64key"/],
      [`bad id:${b64()}`, /the key id "bad id" must be/],
      [`k1:${b64()}\nk1:${b64()}`, /line 2: the key id 'k1' appears twice/],
      ['# nothing\n', /the key file x holds no key: make one with `hardway codec-key FILE`/],
    ];
    for (const [content, message] of cases) assert.throws(() => parseKeyring(content, 'the key file x'), message);
    assert.throws(() => parseKeyring(`k1:${b64(31)}`, 'y'), CodecKeyError);
  });

  it('takes the key file over HARDWAY_CODEC_KEY; a variable holds comma-separated entries; none means no encryption', () => {
    assert.equal(keySource(undefined, {}), undefined);
    assert.equal(payloadCodecFor(undefined, {}), undefined);
    assert.deepEqual(keySource('/k', { HARDWAY_CODEC_KEY: 'x' }), { file: '/k' });
    assert.deepEqual(keySource(undefined, { HARDWAY_CODEC_KEY_FILE: '/f', HARDWAY_CODEC_KEY: 'x' }), { file: '/f' });
    const env = { HARDWAY_CODEC_KEY: `k2:${b64()},k1:${b64()}` };
    assert.deepEqual(loadKeyring(keySource(undefined, env)!).ids, ['k2', 'k1']);
    assert.equal(payloadCodecFor(undefined, env)?.currentKeyId, 'k2');
    assert.throws(
      () => payloadCodecFor(undefined, { HARDWAY_CODEC_KEY: `k1:${b64(8)}` }),
      /the variable HARDWAY_CODEC_KEY, entry 1: the key 'k1' is 8 bytes/,
    );
  });

  it('says when the key file is missing', () => {
    const file = join(tmp(), 'missing.keys');
    assert.throws(() => loadKeyring({ file }), new RegExp(`the key file ${file} does not exist: .*hardway codec-key`));
  });

  it('writes a new key file of mode 0600, and rotates it: a new current key, the old ones kept', () => {
    const file = join(tmp(), 'codec.keys');
    const first = writeNewKey(file, { id: 'k1' });
    assert.deepEqual(first, { id: 'k1', keys: 1 });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const k1 = loadKeyring({ file }).currentKey;
    assert.throws(() => writeNewKey(file), /exists: add --rotate/);
    const second = writeNewKey(file, { rotate: true });
    assert.match(second.id, /^k\d{8}-[0-9a-f]{6}$/);
    const r = loadKeyring({ file });
    assert.deepEqual(r.ids, [second.id, 'k1']);
    assert.deepEqual(r.key('k1'), k1);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.throws(() => writeNewKey(file, { rotate: true, id: 'k1' }), /already has a key 'k1'/);
    assert.throws(() => writeNewKey(join(tmp(), 'none'), { rotate: true }), /does not exist: leave out --rotate/);
    assert.ok(readFileSync(file, 'utf8').startsWith('# hardway payload encryption keys'));
    writeFileSync(file, `k1:${b64(12)}\n`);
    assert.throws(() => writeNewKey(file, { rotate: true }), /12 bytes/);
  });
});
