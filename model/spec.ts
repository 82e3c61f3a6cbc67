// The zod schema of cluster.yaml: structure, types, per-field formats (model/field-checks.ts) and defaults
// (model/defaults.ts). Pure.
//
// Cross-field rules (exactly one CA, odd etcd count, ranges not overlapping, ...) live in model/rules/.
// Custom issues raised here carry `params: { fix, rule }`, which model/zod-issues.ts copies into the Problem.
import { z } from 'zod';
import { BINARY_SOURCES, IMAGE_SOURCES, KEY_ALGORITHMS, MEMORY_POLICIES, ROLES, type ClusterSpec } from './types.js';
import { DEFAULTS } from './defaults.js';
import {
  absolutePathError,
  cidrFieldError,
  dnsLabelError,
  imageReferenceError,
  sanError,
  ipv4FieldError,
  nonEmptyError,
  portError,
  urlError,
  versionError,
  type FieldError,
} from './field-checks.js';

function refineWith<T>(check: (v: T) => FieldError | undefined) {
  return (value: T, ctx: z.RefinementCtx) => {
    const e = check(value);
    if (e) ctx.addIssue({ code: 'custom', message: e.message, params: { fix: e.fix, rule: e.rule } });
  };
}

export const PortSchema = z.number().superRefine(refineWith(portError));
export const IPv4Schema = z.string().superRefine(refineWith(ipv4FieldError));
export const CidrSchema = z.string().superRefine(refineWith(cidrFieldError));
export const RoleSchema = z.enum(ROLES);
export const ImageReferenceSchema = z.string().superRefine(refineWith(imageReferenceError));

export const HostSchema = z.strictObject({
  name: z.string().superRefine(refineWith((v: string) => dnsLabelError(v, 'host name'))),
  address: IPv4Schema,
  roles: z.array(RoleSchema),
  ssh: z
    .strictObject({
      user: z
        .string()
        .superRefine(refineWith(nonEmptyError('ssh user')))
        .optional(),
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
      kubernetes: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.kubernetes)))
        .default(DEFAULTS.versions.kubernetes),
      etcd: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.etcd)))
        .default(DEFAULTS.versions.etcd),
      containerd: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.containerd)))
        .default(DEFAULTS.versions.containerd),
      runc: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.runc)))
        .default(DEFAULTS.versions.runc),
      cniPlugins: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.cniPlugins)))
        .default(DEFAULTS.versions.cniPlugins),
      flannel: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.flannel)))
        .default(DEFAULTS.versions.flannel),
      flannelCniPlugin: z
        .string()
        .superRefine(refineWith(versionError(DEFAULTS.versions.flannelCniPlugin)))
        .default(DEFAULTS.versions.flannelCniPlugin),
    })
    .prefault({}),
  binaries: z
    .strictObject({
      source: z.enum(BINARY_SOURCES).default(DEFAULTS.binaries.source),
      mirror: z.string().superRefine(refineWith(urlError)).optional(),
      directory: z
        .string()
        .superRefine(refineWith(absolutePathError('binaries.directory')))
        .optional(),
    })
    .prefault({}),
  apiServer: z
    .strictObject({
      extraSANs: z.array(z.string().superRefine(refineWith(sanError))).default([]),
    })
    .prefault({}),
  images: z
    .strictObject({
      source: z.enum(IMAGE_SOURCES).default(DEFAULTS.images.source),
      mirror: z.string().superRefine(refineWith(urlError)).optional(),
      directory: z
        .string()
        .superRefine(refineWith(absolutePathError('images.directory')))
        .optional(),
      sandbox: ImageReferenceSchema.default(DEFAULTS.images.sandbox),
      coredns: ImageReferenceSchema.default(DEFAULTS.images.coredns),
      extra: z.array(ImageReferenceSchema).default([]),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      user: z
        .string()
        .superRefine(refineWith(nonEmptyError('ssh user')))
        .default(DEFAULTS.ssh.user),
      port: PortSchema.default(DEFAULTS.ssh.port),
      identityFile: z
        .string()
        .superRefine(refineWith(nonEmptyError('ssh.identityFile')))
        .optional(),
      knownHostsFile: z
        .string()
        .superRefine(refineWith(nonEmptyError('ssh.knownHostsFile')))
        .optional(),
      fingerprints: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
  preflight: z
    .strictObject({
      memoryPolicy: z.enum(MEMORY_POLICIES).default(DEFAULTS.preflight.memoryPolicy),
    })
    .prefault({}),
  pki: z
    .strictObject({
      keyAlgorithm: z.enum(KEY_ALGORITHMS).default(DEFAULTS.pki.keyAlgorithm),
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
