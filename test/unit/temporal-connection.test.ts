// How the CLI and the worker reach Temporal (temporal/connection.ts): flags over environment over defaults, TLS,
// and the API key, which comes from a file or the environment and never from a flag's value.
//   node --import tsx --test test/unit/temporal-connection.test.ts
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { temporalOptions } from '../../temporal/connection.js';

const dir = mkdtempSync(join(tmpdir(), 'hardway-conn-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};

describe('temporalOptions', () => {
  it('flags win over the environment, which wins over the defaults', () => {
    assert.deepEqual({ ...temporalOptions({}, {}) }, { address: 'localhost:7233', namespace: 'default', tls: undefined, codec: undefined });
    const env = { TEMPORAL_ADDRESS: 'env:7233', HARDWAY_TEMPORAL_NAMESPACE: 'envns' };
    assert.equal(temporalOptions({}, env).address, 'env:7233');
    assert.equal(temporalOptions({ address: 'flag:7233' }, env).address, 'flag:7233');
    assert.equal(temporalOptions({}, env).namespace, 'envns');
  });

  it('a client certificate needs its key', () => {
    assert.throws(() => temporalOptions({ tlsCert: '/c.pem' }, {}), /--tls-cert and --tls-key .* must be given together/);
    assert.deepEqual(temporalOptions({ tlsCert: '/c.pem', tlsKey: '/k.pem' }, {}).tls, {
      serverName: undefined,
      serverRootCAFile: undefined,
      clientCertFile: '/c.pem',
      clientKeyFile: '/k.pem',
    });
  });

  it('the API key comes from a file (flag or TEMPORAL_API_KEY_FILE), else TEMPORAL_API_KEY', () => {
    const keyFile = file('api.key', 'tmprl_abc.def\n');
    assert.equal(temporalOptions({ apiKeyFile: keyFile }, {}).apiKey, 'tmprl_abc.def');
    assert.equal(temporalOptions({}, { TEMPORAL_API_KEY_FILE: keyFile }).apiKey, 'tmprl_abc.def');
    assert.equal(temporalOptions({}, { TEMPORAL_API_KEY: ' from-env ' }).apiKey, 'from-env');
    assert.equal(temporalOptions({ apiKeyFile: keyFile }, { TEMPORAL_API_KEY: 'from-env' }).apiKey, 'tmprl_abc.def', 'the file wins');
    assert.equal('apiKey' in temporalOptions({}, {}), false, 'no key, no field');
  });

  it('an unreadable or malformed API key file is an error naming the file and the fix, without the key', () => {
    assert.throws(
      () => temporalOptions({ apiKeyFile: join(dir, 'missing.key') }, {}),
      /Cannot read the Temporal API key file .*missing\.key \(ENOENT\): fix --api-key-file/,
    );
    assert.throws(
      () => temporalOptions({ apiKeyFile: file('empty.key', '\n') }, {}),
      /must hold the key alone, on one line \(it is empty\)/,
    );
    const two = file('two.key', 'secret-one secret-two\n');
    assert.throws(
      () => temporalOptions({ apiKeyFile: two }, {}),
      (e: Error) => /more than one word/.test(e.message) && !e.message.includes('secret'),
    );
  });
});
