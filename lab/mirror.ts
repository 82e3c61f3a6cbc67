// The lab's binary mirror: a static HTTP file server (python3 -m http.server) on the bridge address, serving
// ${HARDWAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hardway}/mirror to the hosts, so that `binaries.source: mirror`
// runs for real. Not started when that directory does not exist. Tracked by pid in the lab state; stopped by pid.
import { spawn } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_MIRROR_PORT, labFiles, mirrorDir } from './paths.js';
import { processAlive, processArgv } from './processes.js';
import { loadState, type LabMirror, type LabState } from './state.js';

const PYTHON = '/usr/bin/python3';

export interface MirrorOptions {
  /** What to serve (default: the cache's mirror/ directory). */
  directory?: string;
  /** Port on the bridge address (default: $HARDWAY_LAB_MIRROR_PORT, else 8088). */
  port?: number;
}

export function mirrorPort(o: MirrorOptions = {}): number {
  const fromEnv = process.env.HARDWAY_LAB_MIRROR_PORT;
  const port = o.port ?? (fromEnv ? Number(fromEnv) : DEFAULT_MIRROR_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`lab: mirror port ${String(port)} is not a TCP port`);
  return port;
}

/** The mirror a lab should run, or undefined when there is nothing to serve. */
export async function desiredMirror(s: Pick<LabState, 'bridge'>, o: MirrorOptions = {}): Promise<LabMirror | undefined> {
  const directory = resolve(o.directory ?? mirrorDir());
  const port = mirrorPort(o);
  const isDir = await stat(directory).then(
    (st) => st.isDirectory(),
    () => false,
  );
  if (!isDir) return undefined;
  const address = s.bridge.address;
  return { url: `http://${address}:${port}/`, address, port, directory };
}

function serverArgv(m: LabMirror): string[] {
  return [PYTHON, '-m', 'http.server', '--bind', m.address, '--directory', m.directory, String(m.port)];
}

/** True when `m.pid` is a live server of exactly this mirror (never some other process that got the pid). */
export async function mirrorRunning(m: LabMirror | undefined): Promise<boolean> {
  if (!m?.pid || !(await processAlive(m.pid))) return false;
  return (await processArgv(m.pid)).join('\0') === serverArgv(m).join('\0');
}

function answers(address: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const sock = connect({ host: address, port, timeout: 500 });
    sock.on('connect', () => (sock.destroy(), done(true)));
    sock.on('timeout', () => (sock.destroy(), done(false)));
    sock.on('error', () => done(false));
  });
}

/** Starts the server (detached); resolves with its pid once it accepts connections. */
export async function startMirror(dir: string, m: LabMirror): Promise<number> {
  const logFile = labFiles(dir).mirrorLog;
  const log = await open(logFile, 'a', 0o644);
  let exited: string | undefined;
  let pid: number | undefined;
  try {
    const argv = serverArgv(m);
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log.fd, log.fd], cwd: '/' });
    child.on('error', (e) => (exited = e.message));
    child.on('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit ${code}`));
    child.unref();
    pid = child.pid;
  } finally {
    await log.close();
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited === undefined && pid !== undefined && (await answers(m.address, m.port))) return pid;
    if (exited !== undefined || Date.now() > deadline) {
      const detail = await readFile(logFile, 'utf8').then(
        (t) => t.trim().split('\n').slice(-5).join('\n'),
        () => '',
      );
      throw new Error(
        `lab: the mirror server on ${m.address}:${m.port} ${exited ? `ended (${exited})` : 'did not answer within 10 s'}` +
          ` (port taken? set another with HARDWAY_LAB_MIRROR_PORT or --mirror-port)${detail ? `:\n${detail}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops the recorded server, if it is still the one the lab started: SIGTERM, then SIGKILL. */
export async function stopMirror(m: LabMirror | undefined): Promise<boolean> {
  if (!m?.pid || !(await mirrorRunning(m))) return false;
  const pid = m.pid;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 40 && (await processAlive(pid)); i++) await new Promise((r) => setTimeout(r, 50));
  if (await processAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

/**
 * The URL of the lab's binary mirror (http://<bridge address>:<port>/, reachable from every host of the lab), or
 * undefined when the lab in `dir` runs none (no lab, or nothing to serve when it came up).
 */
export async function labMirrorUrl(dir: string): Promise<string | undefined> {
  const s = await loadState(resolve(dir));
  return s?.mirror && (await mirrorRunning(s.mirror)) ? s.mirror.url : undefined;
}
