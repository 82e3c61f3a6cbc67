// A node's container runtime: containerd, runc and the CNI plugins from the configured binary source, containerd
// configured from what the host is (cgroup driver, OOM-score capability), and the images the node needs, side-loaded
// from archives where no registry is reachable.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CNI_CONF_DIR,
  CONTAINERD_CERTS_DIR,
  CONTAINERD_CONFIG_PATH,
  CONTAINERD_SOCKET,
  CONTAINERD_UNIT_PATH,
  cgroupDriver,
  renderContainerdConfig,
  renderContainerdUnit,
} from '../render/containerd.js';
import { IMAGE_IMPORT_DIR } from '../model/paths.js';
import { shellQuote as q } from '../remote/exec.js';
import { installRelease } from './binaries.js';
import { ensureKernelPrerequisites } from './kernel.js';
import { CHECKSUM_AWK, CONTAINERD_BIN_DIR, cniPluginsRelease, containerdRelease, runcRelease } from './releases.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { NODE_PROBE_SCRIPT, parseNodeFacts } from './preflight-facts.js';
import { ensureService } from './service.js';
import { runStep, type StepContext } from './step.js';
import type { ContainerRuntimeInput, ImageSourceInput, NodeImagesInput, StepReport } from './types.js';

const CTR = `${CONTAINERD_BIN_DIR}/ctr --address ${CONTAINERD_SOCKET}`;

export function containerRuntimeActivity(shells: HostShells) {
  return (input: ContainerRuntimeInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      const facts = parseNodeFacts((await sh.exec(NODE_PROBE_SCRIPT)).stdout);
      const v = input.versions;
      const config = renderContainerdConfig({ host: input.target.name, version: v.containerd, sandboxImage: input.sandboxImage }, facts);
      const unit = renderContainerdUnit({ version: v.containerd }, facts);

      await ensureKernelPrerequisites(sh, ctx);
      await installRelease(input.binaries, sh, runcRelease(v.runc), ctx);
      await installRelease(input.binaries, sh, cniPluginsRelease(v.cniPlugins), ctx);
      const binaries = await installRelease(input.binaries, sh, containerdRelease(v.containerd), ctx);

      const dirs = await sh.exec(`test -d ${q(CNI_CONF_DIR)} && test -d ${q(CONTAINERD_CERTS_DIR)}`, { allowExitCodes: [0, 1] });
      if (dirs.code !== 0) {
        await sh.change(`mkdir -p ${q(CNI_CONF_DIR)} ${q(CONTAINERD_CERTS_DIR)}`);
        ctx.changed(`${CNI_CONF_DIR}/`, `${CONTAINERD_CERTS_DIR}/`);
      }
      if ((await sh.putFile(CONTAINERD_CONFIG_PATH, config, { mode: '0644', owner: 'root', group: 'root' })).changed) {
        ctx.changed(CONTAINERD_CONFIG_PATH);
      }
      await ensureService(
        sh,
        {
          name: 'containerd',
          unitPath: CONTAINERD_UNIT_PATH,
          unit,
          inputsDigest: createHash('sha256').update(config).digest('hex'),
          binaries,
        },
        ctx,
      );

      // containerd answers, is the release we installed, and its CRI plugin (what the kubelet talks to) loaded.
      const version = await sh.exec(`${CTR} version`, { allowExitCodes: [0, 1], reads: [CONTAINERD_CONFIG_PATH] });
      const server = /Server:[\s\S]*?Version:\s*(\S+)/.exec(version.stdout)?.[1];
      if (version.code !== 0 || !server)
        throw new NotReady(`containerd on ${input.target.name} does not answer on ${CONTAINERD_SOCKET} yet`);
      if (!server.replace(/^v/, '').startsWith(v.containerd.replace(/^v/, ''))) {
        throw new NotReady(
          `containerd on ${input.target.name} is ${server}, not ${v.containerd}: it has not restarted on the new binary yet`,
        );
      }
      const plugins = await sh.exec(`${CTR} plugins ls`);
      const cri = plugins.stdout.split('\n').find((l) => /^io\.containerd\.grpc\.v1\s+cri\s/.test(l));
      if (!cri || !/\sok\s*$/.test(cri)) {
        throw new NotReady(
          `containerd's CRI plugin on ${input.target.name} is not ok (${cri?.trim().split(/\s+/).pop() ?? 'not listed'}): ` +
            'see journalctl -u containerd on the host',
        );
      }
      ctx.notes.push(
        `containerd ${server}, cgroup driver ${cgroupDriver(facts)}, cgroup v${facts.cgroup.version}` +
          (facts.sysResource ? '' : ', restrict_oom_score_adj (no CAP_SYS_RESOURCE)'),
      );
    });
}

/** "<archive> <reference>" lines (a REFERENCES file) -> reference -> archive. */
export function parseReferences(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [archive, ref] = line.trim().split(/\s+/);
    if (archive && ref && !archive.startsWith('#')) out.set(ref, archive);
  }
  return out;
}

/** sha256sum's output ("<hex>  <file>", "<hex> *<file>") -> file -> hex. */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
    if (m) out.set(m[2]!.replace(/^\.\//, ''), m[1]!);
  }
  return out;
}

const IMPORT_DIR = IMAGE_IMPORT_DIR;

async function presentImages(sh: HostShell): Promise<Set<string>> {
  const { stdout } = await sh.exec(`${CTR} -n k8s.io images ls -q`, { reads: [CONTAINERD_CONFIG_PATH] });
  return new Set(
    stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/** Which archive holds each missing reference; a reference the source does not have is a configuration error. */
function archivesFor(missing: string[], refs: Map<string, string>, where: string): Map<string, string[]> {
  const byArchive = new Map<string, string[]>();
  const absent = missing.filter((r) => !refs.has(r));
  if (absent.length) {
    throw new ConfigurationError(
      `${where} has no archive for ${absent.join(', ')} (its REFERENCES lists ${[...refs.keys()].join(', ') || 'nothing'}). ` +
        'Add the archives there, or change the references in the images section of the cluster file.',
    );
  }
  for (const r of missing) byArchive.set(refs.get(r)!, [...(byArchive.get(refs.get(r)!) ?? []), r]);
  return byArchive;
}

async function importFromMirror(sh: HostShell, src: ImageSourceInput, missing: string[], ctx: StepContext): Promise<void> {
  const base = src.mirror!.replace(/\/+$/, '');
  const listed = await sh.exec(`curl -fsSL --retry 3 ${q(`${base}/REFERENCES`)}`, { allowExitCodes: [0, 22] });
  if (listed.code !== 0) throw new ConfigurationError(`images.mirror ${base} has no REFERENCES file (${listed.stderr.trim()})`);
  for (const [archive, refs] of archivesFor(missing, parseReferences(listed.stdout), `images.mirror ${base}`)) {
    ctx.progress(`importing ${archive}`);
    const script = [
      'set -eu',
      `mkdir -p ${IMPORT_DIR} && cd ${IMPORT_DIR}`,
      `curl -fsSL --retry 3 -o ${q(archive)} ${q(`${base}/${archive}`)}`,
      `curl -fsSL --retry 3 -o SHA256SUMS ${q(`${base}/SHA256SUMS`)}`,
      `want=$(awk -v f=${q(archive)} ${q(CHECKSUM_AWK)} SHA256SUMS)`,
      `[ -n "$want" ] || { echo ${q(`${base}/SHA256SUMS lists no checksum for ${archive}`)} >&2; exit 1; }`,
      `echo "$want  "${q(archive)} | sha256sum -c --quiet -`,
      `${CTR} -n k8s.io images import ${q(archive)}`,
      `rm -f ${q(archive)} SHA256SUMS`,
    ].join('\n');
    await sh.change(script, { timeoutMs: 10 * 60_000, summary: `import ${refs.join(', ')} from ${base}/${archive}` });
    ctx.changed(...refs.map((r) => `imported ${r}`));
  }
}

async function importFromDirectory(sh: HostShell, src: ImageSourceInput, missing: string[], ctx: StepContext): Promise<void> {
  const dir = src.directory!;
  const read = (f: string) =>
    readFile(join(dir, f)).catch(() => {
      throw new ConfigurationError(`images.directory ${dir} on the worker's machine has no ${f}`);
    });
  const refs = parseReferences((await read('REFERENCES')).toString());
  const sums = parseChecksums((await read('SHA256SUMS')).toString());
  for (const [archive, names] of archivesFor(missing, refs, `images.directory ${dir}`)) {
    const content = await read(archive);
    const want = sums.get(archive);
    if (!want) throw new ConfigurationError(`${join(dir, 'SHA256SUMS')} lists no checksum for ${archive}`);
    if (createHash('sha256').update(content).digest('hex') !== want) {
      throw new ConfigurationError(
        `${join(dir, archive)} does not match its checksum in ${join(dir, 'SHA256SUMS')}: a damaged or replaced archive`,
      );
    }
    ctx.progress(`uploading ${archive}`);
    const at = `${IMPORT_DIR}/${archive}`;
    await sh.putFile(at, content, { mode: '0600', owner: 'root', group: 'root' });
    await sh.change(`${CTR} -n k8s.io images import ${q(at)} && rm -f ${q(at)}`, {
      timeoutMs: 10 * 60_000,
      summary: `import ${names.join(', ')} from ${join(dir, archive)}`,
    });
    ctx.changed(...names.map((r) => `imported ${r}`));
  }
}

export function nodeImagesActivity(shells: HostShells) {
  return (input: NodeImagesInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      const src = input.images;
      if (src.source === 'mirror' && !src.mirror) throw new ConfigurationError('images.mirror is required when images.source is mirror');
      if (src.source === 'local' && !src.directory)
        throw new ConfigurationError('images.directory is required when images.source is local');
      const wanted = [...new Set(input.references)];
      const present = await presentImages(sh);
      const missing = wanted.filter((r) => !present.has(r));
      if (missing.length === 0) return;
      if (src.source === 'registry') {
        ctx.notes.push(`containerd pulls ${missing.join(', ')} from their registries when first used`);
        return;
      }
      if (src.source === 'mirror') await importFromMirror(sh, src, missing, ctx);
      else await importFromDirectory(sh, src, missing, ctx);
      const after = await presentImages(sh);
      const still = wanted.filter((r) => !after.has(r));
      if (still.length) {
        throw new ConfigurationError(
          `after the import, containerd on ${input.target.name} still lacks ${still.join(', ')}: the archive holds another reference`,
        );
      }
    });
}
