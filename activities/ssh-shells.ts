// HostShells backed by the worker's SSH pool: how an activity reaches the host its input names. What a target
// leaves unset (identity, known_hosts) is decided by resolveSshDefaults (remote/connection.ts), nowhere else.
import { resolveSshDefaults, type SshDefaults, type SshTarget } from '../remote/connection.js';
import { putFile, readFile, statFile } from '../remote/files.js';
import type { SshPool } from '../remote/pool.js';
import { fileAction, type HostShell, type HostShells } from './host-shell.js';
import type { HostTarget } from './types.js';

export type { SshDefaults } from '../remote/connection.js';

export function sshTarget(target: HostTarget, defaults: SshDefaults = {}): SshTarget {
  const d = resolveSshDefaults(target, defaults);
  const t: SshTarget = { host: target.address, name: target.name, port: target.port, user: target.user, knownHostsFile: d.knownHostsFile };
  if (d.identityFile !== undefined) t.identityFile = d.identityFile;
  if (d.agent !== undefined) t.agent = d.agent;
  if (target.fingerprint) t.fingerprints = [target.fingerprint];
  return t;
}

export function sshShells(pool: SshPool, defaults: SshDefaults = {}): HostShells {
  return {
    shell(target: HostTarget): HostShell {
      const remote = pool.host(sshTarget(target, defaults));
      return {
        name: target.name,
        exec: (cmd, { reads: _reads, ...opts } = {}) => remote.exec(cmd, opts),
        change: async (cmd, { summary: _summary, writes: _writes, ...opts } = {}) => {
          await remote.exec(cmd, opts);
        },
        putFile: (path, content, opts) => putFile(remote, path, content, opts),
        checkFile: async (path, content, opts) => fileAction(await statFile(remote, path), content, opts),
        readFile: (path) => readFile(remote, path),
      };
    },
  };
}
