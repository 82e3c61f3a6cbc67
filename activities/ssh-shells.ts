// HostShells backed by the worker's SSH pool: how an activity reaches a planned host.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { ClusterPlan } from '../model/types.js';
import { putFile, readFile } from '../remote/files.js';
import type { SshPool } from '../remote/pool.js';
import type { SshTarget } from '../remote/connection.js';
import type { HostShell, HostShells } from './host-shell.js';
import { plannedHost } from './plan-lookup.js';

export interface SshDefaults {
  /** Overrides the cluster file's ssh.identityFile (e.g. `hardway worker --identity`). */
  identityFile?: string;
  agent?: string;
}

export function sshTarget(plan: ClusterPlan, hostName: string, defaults: SshDefaults = {}): SshTarget {
  const h = plannedHost(plan, hostName);
  const identityFile = defaults.identityFile ?? plan.ssh.identityFile ?? defaultIdentity();
  const pinned = plan.ssh.fingerprints?.[hostName];
  return {
    host: h.address,
    name: h.name,
    port: h.ssh.port,
    user: h.ssh.user,
    identityFile,
    agent: identityFile ? undefined : (defaults.agent ?? process.env.SSH_AUTH_SOCK),
    knownHostsFile: plan.ssh.knownHostsFile ?? join(homedir(), '.ssh', 'known_hosts'),
    fingerprints: pinned ? [pinned] : undefined,
  };
}

function defaultIdentity(): string | undefined {
  for (const f of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const p = join(homedir(), '.ssh', f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function sshShells(pool: SshPool, defaults: SshDefaults = {}): HostShells {
  return {
    shell(plan: ClusterPlan, hostName: string): HostShell {
      const remote = pool.host(sshTarget(plan, hostName, defaults));
      return {
        name: hostName,
        exec: (cmd, opts) => remote.exec(cmd, opts),
        putFile: (path, content, opts) => putFile(remote, path, content, opts),
        readFile: (path) => readFile(remote, path),
      };
    },
  };
}
