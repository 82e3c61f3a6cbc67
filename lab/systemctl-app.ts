// The lab's systemctl, made quick to start. The daemonless systemctl is one large Python script, and Python compiles
// a script it runs on every start (about 130 ms of its 170 ms here, each time an activity asks is-active). Packed as
// a zip application with the script compiled once (an unchecked hash-based .pyc, PEP 552) next to its source, it
// starts in about 40 ms; a Python that cannot use that .pyc (another version) runs the source in the same archive.
// Built next to the unpacked script, again whenever the script or the machine's python3 changes.
//
// The packed copy also loses the script's fixed waits, which real systemd does not have (PATCHES below): a start
// slept 0.5 s after the fork whatever the unit, a Type=notify start slept 1 s more before it even looked for
// READY=1 and 1 s after each empty 1 s read of the socket, and a stop polled the stopped PID once a second. Each
// start of etcd, haproxy or containerd took 1.5-2.5 s on an idle lab that way, where systemd returns at READY=1.
// And it took the mtime of /proc/1/status for the boot time. In a lab host's own /proc that is when the kernel made
// the inode, often the moment of the call, so every command, even `show`, first slept 0.1 s for the "boot" to settle
// (157 ms for a `show` that uses 41 ms of CPU), and a status file written before that moment counted as left from an
// earlier boot and was dropped: a Type=notify start that got READY=1 then failed with "start not active" while its
// service ran on (seen with five etcd members). The boot time is now PID 1's start time from /proc/1/stat, as the
// kernel counts it. Polls become 50 ms; every timeout keeps its length. A script of another version, where a patch does not apply
// exactly once, fails the build instead of running unpatched.
import { createHash } from 'node:crypto';
import { readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runOk } from './exec.js';

const BUILD = String.raw`
import io, sys, zipfile, py_compile, tempfile, os
script, out = sys.argv[1], sys.argv[2]
src = open(script, "rb").read().decode("utf-8")
PATCHES = [
    ("MinimumYield = 0.5\n", "MinimumYield = 0.05\n"),
    ("    def get_boottime(self):\n"
     "        if \"oldest\" in COVERAGE:\n",
     "    def get_boottime(self):\n"
     "        try:\n"
     "            with open(\"/proc/stat\") as f:\n"
     "                btime = [int(l.split()[1]) for l in f if l.startswith(\"btime \")][0]\n"
     "            with open(\"/proc/1/stat\") as f:\n"
     "                started = int(f.read().rsplit(\")\", 1)[1].split()[19])\n"
     "            return btime + started / float(os.sysconf(\"SC_CLK_TCK\"))\n"
     "        except Exception:\n"
     "            pass\n"
     "        if \"oldest\" in COVERAGE:\n"),
    ("            if not attempt: # first one\n"
     "                time.sleep(1) # until TimeoutStartSec\n"
     "                continue\n"
     "            result = self.read_notify_socket(notify, 1) # sleep max 1 second\n"
     "            if not result: # timeout\n"
     "                time.sleep(1) # until TimeoutStartSec\n"
     "                continue\n",
     "            result = self.read_notify_socket(notify, 1) # sleep max 1 second\n"
     "            if not result: # timeout\n"
     "                continue\n"),
    ("                logg.info(\"service PIDs not stopped after %s\", timeout)\n"
     "                break\n"
     "            time.sleep(1) # until TimeoutStopSec\n",
     "                logg.info(\"service PIDs not stopped after %s\", timeout)\n"
     "                break\n"
     "            time.sleep(0.05) # until TimeoutStopSec\n"),
]
for old, new in PATCHES:
    if src.count(old) != 1:
        sys.exit("systemctl: a patch does not apply exactly once: %r" % old[:60])
    src = src.replace(old, new)
src = src.encode("utf-8")
tmp = tempfile.mkdtemp()
py = os.path.join(tmp, "__main__.py")
open(py, "wb").write(src)
pyc = py_compile.compile(py, cfile=os.path.join(tmp, "__main__.pyc"), doraise=True,
                         invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    z.write(py, "__main__.py")
    z.write(pyc, "__main__.pyc")
with open(out, "wb") as f:
    f.write(b"#!/usr/bin/python3\n")
    f.write(buf.getvalue())
os.chmod(out, 0o755)
`;

const building = new Map<string, Promise<string>>();

/** The zip application for `script` (built when missing or stale, once per process); its path. */
export function compiledSystemctl(script: string): Promise<string> {
  let p = building.get(script);
  if (!p) {
    p = build(script);
    building.set(script, p);
    p.catch(() => building.delete(script));
  }
  return p;
}

async function build(script: string): Promise<string> {
  const out = join(dirname(script), 'systemctl.pyz');
  const python = (await runOk(['python3', '-c', 'import sys; print(sys.version)'])).stdout.trim();
  const key = createHash('sha256')
    .update(await readFile(script))
    .update(python)
    .update(BUILD)
    .digest('hex');
  const stamp = `${out}.key`;
  const have = await readFile(stamp, 'utf8').catch(() => '');
  if (have.trim() === key && (await stat(out).catch(() => undefined))) return out;
  await runOk(['python3', '-c', BUILD, script, `${out}.new`]);
  await rename(`${out}.new`, out);
  await runOk(['sh', '-c', `printf '%s\\n' ${key} > '${stamp}'`]);
  return out;
}
