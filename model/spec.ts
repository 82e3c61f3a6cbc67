// The zod schema of cluster.yaml: structure, types, per-field formats and defaults. Pure.
//
// Cross-field rules (exactly one CA, odd etcd count, ranges not overlapping, ...) live in
// model/validate.ts, which also turns zod issues into Problems with paths, fixes and line numbers.
// Custom issues raised here carry `params: { fix, rule }`, which validate.ts copies into the Problem.
import { z } from 'zod';
import { ROLES, type ClusterSpec } from './types.js';
import { tryParseCidr, tryParseIPv4 } from './cidr.js';

/** Defaults from the seed architecture (docs: /work/shared/seed). */
export const DEFAULTS = {
  networks: {
    pods: '10.244.0.0/16',
    nodeMask: 24,
    services: '10.32.0.0/24',
    clusterDns: '10.32.0.10',
  },
  loadBalancer: { port: 6443 },
  versions: {
    kubernetes: 'v1.32.3',
    // The lab serves Debian's etcd package (3.4.23) as the "local" binary source.
    etcd: 'v3.4.23',
  },
  binaries: { source: 'official' as const },
  ssh: { user: 'root', port: 22 },
  preflight: { memoryPolicy: 'fail' as const },
} as const;

export interface FieldError {
  message: string;
  fix: string;
  rule: string;
}

const LABEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** RFC 1123 label: 1..63 characters, lowercase letters, digits and '-', starting and ending alphanumeric. */
export function dnsLabelError(value: string, what: string): FieldError | undefined {
  const suggestion = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  const fix = suggestion && suggestion !== value ? `use a name like "${suggestion}"` : 'use lowercase letters, digits and "-" only';
  if (value.length === 0) return { message: `${what} is empty`, fix: `give a ${what} such as "node-1"`, rule: 'invalid-name' };
  if (value.length > 63) {
    return { message: `${what} "${value}" is ${value.length} characters long; at most 63 are allowed (RFC 1123 label)`, fix: `shorten it, e.g. "${suggestion}"`, rule: 'invalid-name' };
  }
  if (!LABEL_RE.test(value)) {
    return {
      message: `${what} "${value}" is not a valid RFC 1123 label: only lowercase letters, digits and "-", starting and ending with a letter or digit`,
      fix,
      rule: 'invalid-name',
    };
  }
  return undefined;
}

export function ipv4FieldError(value: string): FieldError | undefined {
  const r = tryParseIPv4(value);
  if (r.ok) return undefined;
  return { message: r.error, fix: 'write a dotted-quad IPv4 address such as 192.168.56.21', rule: 'invalid-address' };
}

export function cidrFieldError(value: string): FieldError | undefined {
  const r = tryParseCidr(value);
  if (r.ok) return undefined;
  const m = /did you mean (\S+)\?/.exec(r.error);
  return {
    message: r.error,
    fix: m ? `use ${m[1]}` : 'write a CIDR range such as 10.244.0.0/16',
    rule: 'invalid-cidr',
  };
}

function refineWith<T>(check: (v: T) => FieldError | undefined) {
  return (value: T, ctx: z.RefinementCtx) => {
    const e = check(value);
    if (e) ctx.addIssue({ code: 'custom', message: e.message, params: { fix: e.fix, rule: e.rule } });
  };
}

const portCheck = (v: number): FieldError | undefined =>
  Number.isInteger(v) && v >= 1 && v <= 65535
    ? undefined
    : { message: `port ${v} is out of range: it must be a whole number from 1 to 65535`, fix: 'use a TCP port between 1 and 65535 (the API server default is 6443, SSH is 22)', rule: 'invalid-port' };

const versionCheck = (example: string) => (v: string): FieldError | undefined => {
  if (/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v)) return undefined;
  const fixed = /^\d+\.\d+\.\d+/.test(v) ? `v${v}` : example;
  return { message: `version "${v}" is not a release tag like "${example}"`, fix: `write "${fixed}"`, rule: 'invalid-version' };
};

const nonEmpty = (what: string) => (v: string): FieldError | undefined =>
  v.trim().length > 0 ? undefined : { message: `${what} is empty`, fix: `give a ${what} or remove the field`, rule: 'empty' };

const absolutePath = (what: string) => (v: string): FieldError | undefined =>
  v.startsWith('/') || v.startsWith('~/')
    ? undefined
    : { message: `${what} "${v}" is not an absolute path`, fix: `write an absolute path such as /srv/hardway/bin`, rule: 'invalid-path' };

const urlCheck = (v: string): FieldError | undefined =>
  /^https?:\/\/[^\s/]+/.test(v)
    ? undefined
    : { message: `mirror "${v}" is not an http(s) URL`, fix: 'write a URL such as https://mirror.example.com/kubernetes', rule: 'invalid-url' };

export const PortSchema = z.number().superRefine(refineWith(portCheck));
export const IPv4Schema = z.string().superRefine(refineWith(ipv4FieldError));
export const CidrSchema = z.string().superRefine(refineWith(cidrFieldError));
export const RoleSchema = z.enum(ROLES);

export const HostSchema = z.strictObject({
  name: z.string().superRefine(refineWith((v: string) => dnsLabelError(v, 'host name'))),
  address: IPv4Schema,
  roles: z.array(RoleSchema),
  ssh: z
    .strictObject({
      user: z.string().superRefine(refineWith(nonEmpty('ssh user'))).optional(),
      port: PortSchema.optional(),
    })
    .optional(),
});

export const ClusterFileSchema = z.strictObject({
  name: z.string().superRefine(refineWith((v: string) => dnsLabelError(v, 'cluster name'))),
  hosts: z.array(HostSchema),
  networks: z
    .strictObject({
      infrastructure: CidrSchema.optional(),
      pods: CidrSchema.default(DEFAULTS.networks.pods),
      nodeMask: z.number().int().default(DEFAULTS.networks.nodeMask),
      services: CidrSchema.default(DEFAULTS.networks.services),
      clusterDns: IPv4Schema.default(DEFAULTS.networks.clusterDns),
    })
    .prefault({}),
  loadBalancer: z
    .strictObject({
      port: PortSchema.default(DEFAULTS.loadBalancer.port),
      external: z.strictObject({ address: IPv4Schema }).optional(),
    })
    .prefault({}),
  versions: z
    .strictObject({
      kubernetes: z.string().superRefine(refineWith(versionCheck(DEFAULTS.versions.kubernetes))).default(DEFAULTS.versions.kubernetes),
      etcd: z.string().superRefine(refineWith(versionCheck(DEFAULTS.versions.etcd))).default(DEFAULTS.versions.etcd),
    })
    .prefault({}),
  binaries: z
    .strictObject({
      source: z.enum(['official', 'mirror', 'local']).default(DEFAULTS.binaries.source),
      mirror: z.string().superRefine(refineWith(urlCheck)).optional(),
      directory: z.string().superRefine(refineWith(absolutePath('binaries.directory'))).optional(),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      user: z.string().superRefine(refineWith(nonEmpty('ssh user'))).default(DEFAULTS.ssh.user),
      port: PortSchema.default(DEFAULTS.ssh.port),
      identityFile: z.string().superRefine(refineWith(nonEmpty('ssh.identityFile'))).optional(),
      knownHostsFile: z.string().superRefine(refineWith(nonEmpty('ssh.knownHostsFile'))).optional(),
      fingerprints: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
  preflight: z
    .strictObject({
      memoryPolicy: z.enum(['fail', 'warn']).default(DEFAULTS.preflight.memoryPolicy),
    })
    .prefault({}),
});

/** What the user may write (defaults optional). */
export type ClusterFileInput = z.input<typeof ClusterFileSchema>;

// Compile-time proof that the schema produces exactly the shared ClusterSpec contract.
type Output = z.output<typeof ClusterFileSchema>;
const _specFromSchema = (o: Output): ClusterSpec => o;
const _schemaFromSpec = (s: ClusterSpec): Output => s;
void _specFromSchema;
void _schemaFromSpec;

/**
 * The keys allowed at a path of the cluster file (for "did you mean" suggestions), or undefined when the
 * path is not an object in the schema. Numeric segments step into arrays; records accept any key.
 */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  let schema: unknown = ClusterFileSchema;
  const unwrap = (s: unknown): unknown => {
    // Peel optional/default/prefault/pipe wrappers.
    for (let i = 0; i < 10; i++) {
      const def = (s as { _zod?: { def?: { type?: string; innerType?: unknown; in?: unknown } } })._zod?.def;
      if (!def) return s;
      if (def.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type ?? '')) {
        s = def.innerType;
      } else if (def.type === 'pipe' && def.in) {
        s = def.in;
      } else {
        return s;
      }
    }
    return s;
  };
  for (const seg of path) {
    schema = unwrap(schema);
    const def = (schema as { _zod?: { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } } })._zod?.def;
    if (!def) return undefined;
    if (def.type === 'object' && def.shape && typeof seg === 'string') {
      if (!(seg in def.shape)) return undefined;
      schema = def.shape[seg];
    } else if (def.type === 'array' && typeof seg === 'number') {
      schema = def.element;
    } else {
      return undefined;
    }
  }
  schema = unwrap(schema);
  const def = (schema as { _zod?: { def?: { type?: string; shape?: Record<string, unknown> } } })._zod?.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}
