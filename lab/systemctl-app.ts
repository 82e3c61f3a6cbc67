// The lab's systemctl, made quick to start. The daemonless systemctl is one large Python script, and Python compiles
// a script it runs on every start (about 130 ms of its 170 ms here, each time an activity asks is-active). Packed as
// a zip application with the script compiled once (an unchecked hash-based .pyc, PEP 552) next to its source, it
// starts in about 40 ms; a Python that cannot use that .pyc (another version) runs the source in the same archive.
// Built next to the unpacked script, again whenever the script or the machine's python3 changes.
import { createHash } from 'node:crypto';
import { readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runOk } from './exec.js';

const BUILD = String.raw`
import io, sys, zipfile, py_compile, tempfile, os
script, out = sys.argv[1], sys.argv[2]
src = open(script, "rb").read()
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
