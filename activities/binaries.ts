// Puts a release's files on a host (activities/releases.ts says which) from the configured source:
//  - official: the upstream release site, downloaded on the host and checked against the release's checksums;
//  - mirror:   the same layout under a base URL of your own (<mirror>/<component>/<version>/...);
//  - local:    a directory on the worker's machine laid out as <directory>/<component>/<version>/<file>,
//              uploaded over SSH (skipped when the host's copy has the same content).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HARDWAY_TEMP_PREFIX, NEW_FILE_SUFFIX, RELEASE_STAMP_DIR } from '../model/paths.js';
import { ConfigurationError } from './errors.js';
import type { HostShell } from './host-shell.js';
import { shellQuote as q } from '../remote/exec.js';
import { CHECKSUM_AWK, goArch, type Release } from './releases.js';
import type { StepContext } from './step.js';
import type { BinariesInput } from './types.js';

export { etcdRelease, goArch, type Release } from './releases.js';

/** The release's base URL for a source: upstream's, or <mirror>/<component>/<version>. */
export function releaseBase(src: BinariesInput, release: Release): string {
  if (src.source === 'mirror') {
    if (!src.mirror) throw new ConfigurationError('binaries.mirror is required when binaries.source is mirror');
    return `${src.mirror.replace(/\/+$/, '')}/${release.component}/${release.version}`;
  }
  return release.officialBase;
}

/** The directories a release's files go into, each once. */
const installDirs = (installs: readonly { to: string }[]): string[] => [...new Set(installs.map((i) => i.to.replace(/\/[^/]+$/, '')))];

/** The shell script that downloads, verifies, unpacks and installs a release (official or mirror). */
export function installScript(release: Release, base: string, arch: string): string {
  const tmp = `${HARDWAY_TEMP_PREFIX}${release.component}-${release.version}`;
  const installs = release.installs(arch);
  const dirs = installDirs(installs);
  const lines = ['set -eu', `mkdir -p ${q(tmp)} && cd ${q(tmp)}`];
  for (const d of release.downloads(arch)) {
    const file = d.path.split('/').pop()!;
    const sums = `${file}.checksums`;
    lines.push(
      `curl -fsSL --retry 3 -o ${q(file)} ${q(`${base}/${d.path}`)}`,
      `curl -fsSL --retry 3 -o ${q(sums)} ${q(`${base}/${d.sums}`)}`,
      `want=$(awk -v f=${q(file)} ${q(CHECKSUM_AWK)} ${q(sums)})`,
      `[ -n "$want" ] || { echo ${q(`${base}/${d.sums} lists no checksum for ${file}`)} >&2; exit 1; }`,
      `echo "$want  "${q(file)} | sha256sum -c --quiet -`,
    );
    if (d.unpack) lines.push(`tar -xzf ${q(file)}`);
  }
  lines.push(`mkdir -p ${dirs.map(q).join(' ')}`);
  for (const i of installs) {
    const next = `${i.to}${NEW_FILE_SUFFIX}`;
    lines.push(`install -o root -g root -m 0755 ${q(i.from)} ${q(next)} && mv -f ${q(next)} ${q(i.to)}`);
  }
  lines.push(
    `mkdir -p ${RELEASE_STAMP_DIR} && echo ${q(`${release.version} ${arch}`)} > ${q(`${RELEASE_STAMP_DIR}/${release.stamp}`)}`,
    `cd / && rm -rf ${q(tmp)}`,
  );
  return lines.join('\n');
}

/**
 * Installs the release's files on the host. What changed is recorded (`ctx.changed`: each installed path, or the
 * release's `changedAs`) as soon as it is on the host, so a retry after a crash still reports it and still restarts
 * the service that runs it. Returns the installed paths.
 */
export async function installRelease(
  src: BinariesInput,
  sh: HostShell,
  release: Release,
  ctx: Pick<StepContext, 'changed' | 'progress'>,
): Promise<string[]> {
  const { stdout: archOut } = await sh.exec('uname -m');
  const arch = goArch(archOut.trim());
  const installs = release.installs(arch);
  const report = (paths: string[]) => {
    if (paths.length === 0) return;
    if (release.changedAs) ctx.changed(release.changedAs);
    else ctx.changed(...paths);
  };

  if (src.source === 'local') {
    if (!src.directory) throw new ConfigurationError('binaries.directory is required when binaries.source is local');
    const changed: string[] = [];
    for (const i of installs) {
      const file = join(src.directory, release.component, release.version, i.name);
      const content = await readFile(file).catch(() => {
        throw new ConfigurationError(
          `binaries.source is local but ${file} does not exist on the worker's machine. ` +
            `Put ${release.component} ${release.version} there (layout <directory>/<component>/<version>/<file>) or change binaries.source.`,
        );
      });
      ctx.progress(`uploading ${i.name}`);
      if ((await sh.putFile(i.to, content, { mode: '0755', owner: 'root', group: 'root' })).changed) changed.push(i.to);
    }
    report(changed);
    return installs.map((i) => i.to);
  }

  // official or mirror: download on the host, verify, unpack, install. A stamp records what is installed so that a
  // re-run costs one command.
  const base = releaseBase(src, release);
  const want = `${release.version} ${arch}`;
  const have = (await sh.readFile(`${RELEASE_STAMP_DIR}/${release.stamp}`))?.toString().trim();
  const present = await sh.exec(installs.map((i) => `test -x ${q(i.to)}`).join(' && '), { allowExitCodes: [0, 1] });
  if (have === want && present.code === 0) return installs.map((i) => i.to);
  ctx.progress(`downloading ${release.component} ${release.version}`);
  await sh.change(installScript(release, base, arch), {
    timeoutMs: 10 * 60_000,
    summary: `install ${release.component} ${release.version} (${arch}) into ${installDirs(installs).join(', ')} from ${base}`,
    writes: installs.map((i) => i.to),
  });
  report(installs.map((i) => i.to));
  return installs.map((i) => i.to);
}
