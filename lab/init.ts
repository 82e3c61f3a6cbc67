// The host's init: PID 1 of the host's own PID namespace, in its own cgroup namespace.
//
// Started from the machine as
//   sh (moves itself into /hardway/<lab id>/<host> of every cgroup hierarchy)
//   -> nsenter --net --uts --mount (the host's)
//   -> unshare --cgroup --pid --fork --kill-child
//   -> python3 (this script, PID 1)
// it mounts a /proc of its PID namespace and the host's /sys/fs/cgroup (a tmpfs with every hierarchy of the machine,
// rooted at the host's cgroup) in the host's mount namespace, writes its machine pid to /run/hardway-init.pid (inside
// the host) and then reaps orphans until it is told to stop, starting again a unit whose main process ended when the
// unit's Restart= asks for it (as systemd would: the lab's daemonless systemctl supervises nothing). Everything enters
// the host through it (`nsenter --target <init>`), so sshd, the sessions it serves and the daemons they start all live
// in the host's PID namespace, and killing the init ends every process of the host.
import { spawn } from 'node:child_process';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { intoCgroupsArgv, type CgroupLayout } from './cgroups.js';
import { netnsPath } from './namespaces.js';
import { namespaceOf, nsPids, processArgv } from './processes.js';
import type { LabHostState, LabState } from './state.js';

/** Marks the init's command line: python3 - hardway-lab-init <lab id> <host>. */
export const INIT_MARK = 'hardway-lab-init';
/** Paths inside the host. */
export const INIT_READY = '/run/hardway-init.pid';
export const INIT_LOG = '/var/log/hardway-init.log';
const PYTHON = '/usr/bin/python3';

/** The init; LAYOUT and READY are prepended (JSON text in Python string literals, which read JSON's escapes alike). */
const INIT_SCRIPT = String.raw`
import ctypes, os, signal, sys, time
outer = os.readlink('/proc/self')  # /proc is still the machine's here: this is our pid there
libc = ctypes.CDLL(None, use_errno=True)
try:
    libc.prctl(15, b'hardway-init', 0, 0, 0)  # PR_SET_NAME: what ps shows inside the host
except Exception:
    pass
MS_NOSUID, MS_NODEV, MS_NOEXEC, MNT_DETACH = 2, 4, 8, 2

def mount(fstype, target, options):
    if libc.mount(fstype.encode(), target.encode(), fstype.encode(), MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  options.encode() if options else None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'mount -t {fstype} -o {options} {target}: {os.strerror(e)}')

# The host's own /proc (of this PID namespace) in place of the machine's, not on top of it.
libc.umount2(b'/proc', MNT_DETACH)
mount('proc', '/proc', '')
if LAYOUT['tmpfs']:
    mount('tmpfs', '/sys/fs/cgroup', 'mode=755')
for m in LAYOUT['mounts']:
    os.makedirs(m['path'], exist_ok=True)
    mount(m['type'], m['path'], m['options'])
for l in LAYOUT['links']:
    os.symlink(l['target'], l['path'])
with open(READY + '.tmp', 'w') as f:
    f.write(outer + '\n')
os.rename(READY + '.tmp', READY)
print(f'hardway lab init of {sys.argv[3]} (lab {sys.argv[2]}): pid {outer} on the machine', flush=True)

# What systemd does for Restart=: the daemons systemctl detaches are orphans, so this init reaps them. When one was
# a unit's main process (MainPID in systemctl's status file) and the unit's Restart= asks for it, the unit is
# started again after RestartSec, unless meanwhile it was stopped or started anew (its MainPID changed).
UNIT_DIRS = ('/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system')
STATUS_DIR = '/var/run'  # where the daemonless systemctl keeps <unit>.status
CLEAN_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)

def unit_file(unit):
    for d in UNIT_DIRS:
        p = os.path.join(d, unit)
        if os.path.isfile(p):
            return p
    return None

def restart_policy(path):
    policy, delay, section = 'no', 0.1, ''
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith('['):
                    section = line
                elif section == '[Service]' and '=' in line:
                    k, v = (x.strip() for x in line.split('=', 1))
                    if k == 'Restart':
                        policy = v
                    elif k == 'RestartSec':
                        try:
                            delay = float(v.rstrip('s'))
                        except ValueError:
                            pass
    except OSError:
        pass
    return policy, delay

def main_pid(unit):
    try:
        with open(os.path.join(STATUS_DIR, unit + '.status')) as f:
            for line in f:
                k, _, v = line.partition('=')
                if k.strip() == 'MainPID':
                    return v.strip()
    except OSError:
        pass
    return None

def unit_of(pid):
    try:
        names = os.listdir(STATUS_DIR)
    except OSError:
        return None
    for n in names:
        if n.endswith('.status') and main_pid(n[:-len('.status')]) == str(pid):
            return n[:-len('.status')]
    return None

def wants_restart(policy, status):
    unclean_signal = os.WIFSIGNALED(status) and os.WTERMSIG(status) not in CLEAN_SIGNALS
    failed = unclean_signal or (os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0)
    return policy == 'always' or (policy == 'on-failure' and failed) or (policy == 'on-abnormal' and unclean_signal)

def how(status):
    return f'signal {os.WTERMSIG(status)}' if os.WIFSIGNALED(status) else f'exit {os.WEXITSTATUS(status)}'

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
# SIGCHLD is blocked and waited for, so an orphan is reaped as soon as it ends (a zombie would still look alive).
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
pending = {}  # unit -> (when, the MainPID that ended)
while True:
    try:
        pid, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pid, status = 0, 0
    if pid:
        unit = unit_of(pid)
        path = unit and unit_file(unit)
        if path:
            policy, delay = restart_policy(path)
            if wants_restart(policy, status):
                print(f'{unit}: main process {pid} ended ({how(status)}); Restart={policy}: starting it in {delay:g} s', flush=True)
                pending[unit] = (time.monotonic() + delay, str(pid))
        continue
    for unit, (when, ended) in list(pending.items()):
        if time.monotonic() < when:
            continue
        del pending[unit]
        if main_pid(unit) != ended or not unit_file(unit):
            print(f'{unit}: stopped or started meanwhile; not restarted', flush=True)
            continue
        print(f'{unit}: systemctl start {unit}', flush=True)
        if os.fork() == 0:
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})  # systemctl and its daemon: as any other
                os.execv('/usr/bin/systemctl', ['systemctl', 'start', unit])
            finally:
                os._exit(127)
    soonest = min((when for when, _ in pending.values()), default=time.monotonic() + 5)
    signal.sigtimedwait({signal.SIGCHLD}, max(0.0, soonest - time.monotonic()))
`;

/** The machine's cgroup directories of a host (one per hierarchy). */
export function hostCgroupDirs(s: LabState, h: LabHostState): string[] {
  return h.cgroup ? s.cgroup.hierarchies.map((root) => join(root, h.cgroup)) : [];
}

/** `h.init` if it is still the host's init (its command line and PID 1 of its own PID namespace). */
export async function liveInit(s: LabState, h: LabHostState): Promise<number | undefined> {
  const pid = h.init;
  if (pid === undefined) return undefined;
  const argv = await processArgv(pid);
  const i = argv.indexOf(INIT_MARK);
  if (i < 0 || argv[i + 1] !== s.id || argv[i + 2] !== h.name) return undefined;
  const pids = await nsPids(pid);
  return pids.length >= 2 && pids.at(-1) === 1 ? pid : undefined;
}

/** True when the init lives in the host's current network and mount namespaces. */
export async function initInHostNamespaces(init: number, bound: { net?: number; mnt?: number }): Promise<boolean> {
  return (await namespaceOf(init, 'net')) === bound.net && (await namespaceOf(init, 'mnt')) === bound.mnt;
}

async function tail(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim().split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}

/** Starts the host's init (the host's namespaces, mounts and cgroups must exist); resolves with its machine pid. */
export async function startInit(s: LabState, h: LabHostState, layout: CgroupLayout, env: NodeJS.ProcessEnv): Promise<number> {
  const ready = join(h.root, INIT_READY);
  const logFile = join(h.root, INIT_LOG);
  await rm(ready, { force: true });
  const argv = [
    ...intoCgroupsArgv(hostCgroupDirs(s, h)),
    'nsenter',
    `--net=${netnsPath(h.netns)}`,
    `--uts=${h.utsNs}`,
    `--mount=${h.mntNs}`,
    '--',
    'unshare',
    '--cgroup',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    PYTHON,
    '-',
    INIT_MARK,
    s.id,
    h.name,
  ];
  const script = `import json\nLAYOUT = json.loads(${JSON.stringify(JSON.stringify(layout))})\nREADY = ${JSON.stringify(INIT_READY)}\n${INIT_SCRIPT}`;
  const log = await open(logFile, 'a', 0o644);
  let exited: string | undefined;
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['pipe', log.fd, log.fd], env, cwd: '/' });
    child.on('error', (e) => (exited = e.message));
    child.on('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit ${code}`));
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(script);
    child.unref();
  } finally {
    await log.close();
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    let text: string | undefined;
    try {
      text = await readFile(ready, 'utf8');
    } catch {
      /* not yet */
    }
    const pid = Number(text?.trim());
    if (text !== undefined && Number.isInteger(pid) && pid > 1) {
      const init = await liveInit(s, { ...h, init: pid });
      if (init !== undefined) return init;
    }
    if (exited !== undefined || Date.now() > deadline) {
      const detail = await tail(logFile);
      throw new Error(
        `lab: the init of ${h.name} ${exited !== undefined ? `ended (${exited})` : 'did not start within 15 s'}${detail ? `:\n${detail}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * argv prefix that runs a command inside a running host: moved into the host's cgroups, then in every namespace of
 * its init (PID, cgroup, network, UTS, mount).
 */
export function hostArgv(s: LabState, h: LabHostState, init: number, o: { wd?: string } = {}): string[] {
  return [
    ...intoCgroupsArgv(hostCgroupDirs(s, h)),
    'nsenter',
    `--target=${init}`,
    '--pid',
    '--cgroup',
    '--net',
    '--uts',
    '--mount',
    ...(o.wd ? [`--wd=${o.wd}`] : []),
    '--',
  ];
}
