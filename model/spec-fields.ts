// The single-field rules (model/field-checks.ts) applied to an already-typed ClusterSpec, without zod:
// what the schema checks while parsing a file, for a spec that arrives as data (a workflow argument, a
// spec built in code). Values of the wrong type are reported, not trusted.
import type { ClusterSpec, Problem } from './types.js';
import { BINARY_SOURCES, IMAGE_SOURCES, KEY_ALGORITHMS, MEMORY_POLICIES, ROLES } from './types.js';
import { DEFAULTS } from './defaults.js';
import {
  absolutePathError,
  cidrFieldError,
  dnsLabelError,
  imageReferenceError,
  sanError,
  ipv4FieldError,
  nonEmptyError,
  oneOfError,
  portError,
  urlError,
  versionError,
  type FieldError,
} from './field-checks.js';
import { formatPath, type PathSegment } from './field-path.js';

type Check<T> = (value: T) => FieldError | undefined;

class FieldReport {
  readonly problems: Problem[] = [];

  private push(segs: PathSegment[], e: FieldError | undefined): void {
    if (e) this.problems.push({ severity: 'error', path: formatPath(segs), message: e.message, fix: e.fix, code: e.rule });
  }

  private wrongType(segs: PathSegment[], expected: string, value: unknown): void {
    const path = formatPath(segs);
    if (value === undefined) {
      this.problems.push({
        severity: 'error',
        path,
        message: 'missing: this field is required',
        fix: `add "${String(segs[segs.length - 1])}"`,
        code: 'required',
      });
    } else {
      this.problems.push({
        severity: 'error',
        path,
        message: `expected ${expected}, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`,
        fix: `write ${expected} here`,
        code: 'wrong-type',
      });
    }
  }

  string(segs: PathSegment[], value: unknown, check: Check<string>, optional = false): void {
    if (value === undefined && optional) return;
    if (typeof value !== 'string') this.wrongType(segs, 'a string', value);
    else this.push(segs, check(value));
  }

  number(segs: PathSegment[], value: unknown, check: Check<number>, optional = false): void {
    if (value === undefined && optional) return;
    if (typeof value !== 'number') this.wrongType(segs, 'a number', value);
    else this.push(segs, check(value));
  }

  oneOf(segs: PathSegment[], value: unknown, allowed: readonly string[]): void {
    if (value === undefined) this.wrongType(segs, 'a string', value);
    else this.push(segs, oneOfError(value, allowed));
  }

  list(segs: PathSegment[], value: unknown): value is unknown[] {
    if (Array.isArray(value)) return true;
    this.wrongType(segs, 'a list', value);
    return false;
  }
}

const wholeNumber: Check<number> = (v) =>
  Number.isInteger(v)
    ? undefined
    : { message: `expected a whole number, got ${v}`, fix: `use a whole number such as ${Math.round(v)}`, rule: 'wrong-type' };

export function fieldProblems(spec: ClusterSpec): Problem[] {
  const r = new FieldReport();
  r.string(['name'], spec.name, (v) => dnsLabelError(v, 'cluster name'));
  if (r.list(['hosts'], spec.hosts)) {
    spec.hosts.forEach((h, i) => {
      r.string(['hosts', i, 'name'], h?.name, (v) => dnsLabelError(v, 'host name'));
      r.string(['hosts', i, 'address'], h?.address, ipv4FieldError);
      if (r.list(['hosts', i, 'roles'], h?.roles)) h.roles.forEach((role, j) => r.oneOf(['hosts', i, 'roles', j], role, ROLES));
      r.string(['hosts', i, 'ssh', 'user'], h?.ssh?.user, nonEmptyError('ssh user'), true);
      r.number(['hosts', i, 'ssh', 'port'], h?.ssh?.port, portError, true);
    });
  }
  const n = spec.networks;
  r.string(['networks', 'infrastructure'], n?.infrastructure, cidrFieldError, true);
  r.string(['networks', 'pods'], n?.pods, cidrFieldError);
  r.number(['networks', 'nodeMask'], n?.nodeMask, wholeNumber);
  r.string(['networks', 'services'], n?.services, cidrFieldError);
  r.string(['networks', 'clusterDns'], n?.clusterDns, ipv4FieldError);
  r.number(['loadBalancer', 'port'], spec.loadBalancer?.port, portError);
  r.string(
    ['loadBalancer', 'external', 'address'],
    spec.loadBalancer?.external?.address,
    ipv4FieldError,
    spec.loadBalancer?.external === undefined,
  );
  r.string(['versions', 'kubernetes'], spec.versions?.kubernetes, versionError(DEFAULTS.versions.kubernetes));
  r.string(['versions', 'etcd'], spec.versions?.etcd, versionError(DEFAULTS.versions.etcd));
  r.string(['versions', 'containerd'], spec.versions?.containerd, versionError(DEFAULTS.versions.containerd));
  r.string(['versions', 'runc'], spec.versions?.runc, versionError(DEFAULTS.versions.runc));
  r.string(['versions', 'cniPlugins'], spec.versions?.cniPlugins, versionError(DEFAULTS.versions.cniPlugins));
  r.string(['versions', 'flannel'], spec.versions?.flannel, versionError(DEFAULTS.versions.flannel));
  r.string(['versions', 'flannelCniPlugin'], spec.versions?.flannelCniPlugin, versionError(DEFAULTS.versions.flannelCniPlugin));
  r.oneOf(['binaries', 'source'], spec.binaries?.source, BINARY_SOURCES);
  r.string(['binaries', 'mirror'], spec.binaries?.mirror, urlError, true);
  r.string(['binaries', 'directory'], spec.binaries?.directory, absolutePathError('binaries.directory'), true);
  if (r.list(['apiServer', 'extraSANs'], spec.apiServer?.extraSANs)) {
    spec.apiServer.extraSANs.forEach((san, i) => r.string(['apiServer', 'extraSANs', i], san, sanError));
  }
  r.oneOf(['images', 'source'], spec.images?.source, IMAGE_SOURCES);
  r.string(['images', 'mirror'], spec.images?.mirror, urlError, true);
  r.string(['images', 'directory'], spec.images?.directory, absolutePathError('images.directory'), true);
  r.string(['images', 'sandbox'], spec.images?.sandbox, imageReferenceError);
  r.string(['images', 'coredns'], spec.images?.coredns, imageReferenceError);
  if (r.list(['images', 'extra'], spec.images?.extra)) {
    spec.images.extra.forEach((ref, i) => r.string(['images', 'extra', i], ref, imageReferenceError));
  }
  r.string(['ssh', 'user'], spec.ssh?.user, nonEmptyError('ssh user'));
  r.number(['ssh', 'port'], spec.ssh?.port, portError);
  r.string(['ssh', 'identityFile'], spec.ssh?.identityFile, nonEmptyError('ssh.identityFile'), true);
  r.string(['ssh', 'knownHostsFile'], spec.ssh?.knownHostsFile, nonEmptyError('ssh.knownHostsFile'), true);
  for (const [host, fingerprint] of Object.entries(spec.ssh?.fingerprints ?? {}))
    r.string(['ssh', 'fingerprints', host], fingerprint, () => undefined);
  r.oneOf(['preflight', 'memoryPolicy'], spec.preflight?.memoryPolicy, MEMORY_POLICIES);
  r.oneOf(['pki', 'keyAlgorithm'], spec.pki?.keyAlgorithm, KEY_ALGORITHMS);
  return r.problems;
}
