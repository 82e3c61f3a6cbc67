// Puts release binaries on a host from the configured source:
//  - official: the project's release archive, downloaded on the host and checked against the release's SHA256SUMS;
//  - mirror:   the same archive layout under a base URL of your own (<mirror>/<component>/<version>/<archive>);
//  - local:    a directory on the worker's machine laid out as <directory>/<component>/<version>/<binary>,
//              uploaded over SSH (skipped when the host's copy has the same SHA-256).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError } from './errors.js';
import type { HostShell } from './host-shell.js';
import { shellQuote } from '../remote/exec.js';
import type { StepContext } from './step.js';
import type { BinariesInput } from './types.js';

export interface Release {
  component: string; // "etcd"
  version: string; // "v3.6.16"
  binaries: string[]; // ["etcd", "etcdctl"]
  /** Archive file name for an architecture ("amd64" | "arm64"). */
  archive(arch: string): string;
  /** Directory inside the archive that holds the binaries. */
  archiveDir(arch: string): string;
  officialBase: string; // URL of the release's directory
}

export function etcdRelease(version: string): Release {
  return {
    component: 'etcd',
    version,
    binaries: ['etcd', 'etcdctl'],
    archive: (arch) => `etcd-${version}-linux-${arch}.tar.gz`,
    archiveDir: (arch) => `etcd-${version}-linux-${arch}`,
    officialBase: `https://github.com/etcd-io/etcd/releases/download/${version}`,
  };
}

export const goArch = (unameArch: string): string => (unameArch === 'aarch64' ? 'arm64' : 'amd64');

/**
 * Installs the release's binaries into `binDir` on the host. Each changed path is recorded (`ctx.changed`) as soon
 * as it is on the host, so a retry after a crash still reports it and still restarts the service.
 */
export async function installRelease(
  src: BinariesInput,
  sh: HostShell,
  release: Release,
  binDir: string,
  ctx: Pick<StepContext, 'changed' | 'progress'>,
): Promise<void> {
  if (src.source === 'local') {
    if (!src.directory) throw new ConfigurationError('binaries.directory is required when binaries.source is local');
    for (const b of release.binaries) {
      const file = join(src.directory, release.component, release.version, b);
      const content = await readFile(file).catch(() => {
        throw new ConfigurationError(
          `binaries.source is local but ${file} does not exist on the worker's machine. ` +
            `Put ${release.component} ${release.version} there (layout <directory>/<component>/<version>/<binary>) or change binaries.source.`,
        );
      });
      ctx.progress(`uploading ${b}`);
      if ((await sh.putFile(`${binDir}/${b}`, content, { mode: '0755', owner: 'root', group: 'root' })).changed) {
        ctx.changed(`${binDir}/${b}`);
      }
    }
    return;
  }

  // official or mirror: download on the host, verify, unpack, install. A stamp records what is installed so that
  // a re-run costs one command.
  const stamp = `/var/lib/hardway/releases/${release.component}`;
  if (src.source === 'mirror' && !src.mirror) throw new ConfigurationError('binaries.mirror is required when binaries.source is mirror');
  const base =
    src.source === 'mirror' ? `${src.mirror!.replace(/\/+$/, '')}/${release.component}/${release.version}` : release.officialBase;
  const { stdout: archOut } = await sh.exec('uname -m');
  const arch = goArch(archOut.trim());
  const archive = release.archive(arch);
  const want = `${release.version} ${arch}`;
  const have = (await sh.readFile(stamp))?.toString().trim();
  const present = await sh.exec(release.binaries.map((b) => `test -x ${shellQuote(`${binDir}/${b}`)}`).join(' && '), {
    allowExitCodes: [0, 1],
  });
  if (have === want && present.code === 0) return;
  ctx.progress(`downloading ${archive}`);
  const tmp = `/var/tmp/hardway-${release.component}-${release.version}`;
  const q = shellQuote;
  const script = [
    'set -eu',
    `mkdir -p ${q(tmp)} && cd ${q(tmp)}`,
    `curl -fsSL --retry 3 -o ${q(archive)} ${q(`${base}/${archive}`)}`,
    `curl -fsSL --retry 3 -o SHA256SUMS ${q(`${base}/SHA256SUMS`)}`,
    `grep -E ${q(`[ *]${archive}$`)} SHA256SUMS | sha256sum -c -`,
    `tar -xzf ${q(archive)}`,
    ...release.binaries.map(
      (b) =>
        `install -o root -g root -m 0755 ${q(`${release.archiveDir(arch)}/${b}`)} ${q(`${binDir}/${b}.hardway-new`)} && mv -f ${q(`${binDir}/${b}.hardway-new`)} ${q(`${binDir}/${b}`)}`,
    ),
    `mkdir -p /var/lib/hardway/releases && echo ${q(want)} > ${q(stamp)}`,
    `cd / && rm -rf ${q(tmp)}`,
  ].join('\n');
  await sh.change(script, {
    timeoutMs: 10 * 60_000,
    summary: `install ${release.component} ${release.version} (${arch}) into ${binDir} from ${base}`,
  });
  ctx.changed(...release.binaries.map((b) => `${binDir}/${b}`));
}
