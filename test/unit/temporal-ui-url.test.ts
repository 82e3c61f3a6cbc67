// The Temporal UI link the CLI prints: the one given, the dev server's when it answers, or none.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { devServerUiGuess, temporalUiUrl, workflowPage } from '../../temporal/ui-url.js';

describe('the Temporal UI link', () => {
  it('guesses the dev server convention (frontend port + 1000) only for a local frontend', () => {
    assert.equal(devServerUiGuess('localhost:7233'), 'http://localhost:8233');
    assert.equal(devServerUiGuess('127.0.0.1:17233'), 'http://127.0.0.1:18233');
    assert.equal(devServerUiGuess('[::1]:7233'), 'http://[::1]:8233');
    assert.equal(devServerUiGuess('temporal.example.com:7233'), undefined);
    assert.equal(devServerUiGuess('my-ns.tmprl.cloud:7233'), undefined);
    assert.equal(devServerUiGuess('localhost:65000'), undefined);
  });

  it('prints the dev server UI only when it answers, the one given always, and none otherwise', async () => {
    const ui = createServer((_req, res) => res.end('ui'));
    // The UI listens at frontend port + 1000: find a free UI port, then name the frontend 1000 below it.
    await new Promise<void>((r) => ui.listen(0, '127.0.0.1', r));
    const uiPort = (ui.address() as AddressInfo).port;
    assert.ok(uiPort > 1000, 'an ephemeral port');
    try {
      assert.equal(await temporalUiUrl(`127.0.0.1:${uiPort - 1000}`), `http://127.0.0.1:${uiPort}`);
    } finally {
      await new Promise((r) => ui.close(r));
    }
    assert.equal(await temporalUiUrl(`127.0.0.1:${uiPort - 1000}`), undefined, 'a UI that does not answer');
    assert.equal(await temporalUiUrl('temporal.example.com:7233'), undefined);
    assert.equal(await temporalUiUrl('temporal.example.com:7233', 'https://ui.example.com/'), 'https://ui.example.com');
    assert.equal(
      workflowPage('https://ui.example.com', 'prod ns', 'cluster-a'),
      'https://ui.example.com/namespaces/prod%20ns/workflows/cluster-a',
    );
  });
});
