// What a lab looks like right now, and running commands inside its hosts.
import { resolve } from 'node:path';
import { run, type RunResult } from './exec.js';
import { hostArgv, liveInit } from './init.js';
import { HOST_ENV, sshdPid } from './sshd.js';
import { loadState } from './state.js';
import { assertLabSupported } from './support.js';

export interface LabHostStatus {
  name: string;
  address: string;
  sshd: 'up' | 'down';
  /** The sshd's pid on the machine. */
  pid?: number;
}

export async function labStatus(dir: string): Promise<LabHostStatus[]> {
  assertLabSupported();
  const state = await loadState(resolve(dir));
  if (!state) return [];
  const out: LabHostStatus[] = [];
  for (const h of state.hosts) {
    const init = await liveInit(state, h);
    const pid = init === undefined ? undefined : await sshdPid(h, init);
    out.push(
      pid === undefined ? { name: h.name, address: h.address, sshd: 'down' } : { name: h.name, address: h.address, sshd: 'up', pid },
    );
  }
  return out;
}

/**
 * Runs argv inside the host (its cgroups and its PID, cgroup, network, UTS and mount namespaces), as root, in /root,
 * with a plain environment.
 */
export async function labExec(dir: string, host: string, argv: string[], opts: { input?: string } = {}): Promise<RunResult> {
  assertLabSupported();
  const state = await loadState(resolve(dir));
  if (!state) throw new Error(`lab: no lab in ${resolve(dir)} (run \`hardway lab up\` first)`);
  const h = state.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`lab: no host ${JSON.stringify(host)} in the lab (hosts: ${state.hosts.map((x) => x.name).join(', ')})`);
  if (argv.length === 0) throw new Error('lab exec: no command given');
  const init = await liveInit(state, h);
  if (init === undefined) throw new Error(`lab: host ${host} is not running (its init is gone); \`hardway lab up\` repairs it`);
  return run([...hostArgv(state, h, init, { wd: '/root' }), ...argv], { input: opts.input, env: HOST_ENV });
}
