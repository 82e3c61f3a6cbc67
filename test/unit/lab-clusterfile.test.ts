// The cluster file the lab writes: binaries and images from its mirror, and the flannel CNI plugin version the lab
// has (it builds the plugin from another module than upstream's, under its own version). Pure apart from a temp dir.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labClusterSpec, labNetwork } from '../../lab/clusterfile.js';
import { DEFAULTS } from '../../model/defaults.js';
import { labTestSpec } from '../helpers/lab-spec.js';

describe('the lab cluster file', () => {
  it("names the flannel CNI plugin version its mirror has when it lacks the file's, and keeps one it has", async () => {
    const top = mkdtempSync(join(tmpdir(), 'hardway-labfile-'));
    try {
      const mirror = join(top, 'mirror');
      mkdirSync(join(mirror, 'etcd', DEFAULTS.versions.etcd), { recursive: true });
      writeFileSync(join(mirror, 'etcd', DEFAULTS.versions.etcd, 'SHA256SUMS'), '');
      for (const v of ['v0.9.1', 'v0.10.0', 'v0.9.12']) mkdirSync(join(mirror, 'flannel-cni-plugin', v), { recursive: true });
      const spec = labTestSpec('t', '192.168.70', [{ name: 'w', address: '192.168.70.21', roles: ['worker'] }]);
      const o = {
        network: labNetwork(spec),
        identityFile: '/k',
        knownHostsFile: '/kh',
        binariesDir: join(top, 'none'),
        mirror: { url: 'http://192.168.70.1:8088/', directory: mirror },
      };
      const out = await labClusterSpec(spec, o);
      assert.deepEqual(out.binaries, { source: 'mirror', mirror: 'http://192.168.70.1:8088' });
      assert.equal(out.versions.flannelCniPlugin, 'v0.10.0', 'the newest the lab has');
      const kept = await labClusterSpec({ ...spec, versions: { ...spec.versions, flannelCniPlugin: 'v0.9.1' } }, o);
      assert.equal(kept.versions.flannelCniPlugin, 'v0.9.1');
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });
});
