// A tolerant view of cluster-file data for the cross-field rules (model/rules/): every field that has the
// wrong type or format reads as absent (the schema or model/spec-fields.ts reports it), defaults are
// applied, addresses and ranges are parsed. Works on raw YAML data and on a typed ClusterSpec alike.
import { ROLES, type Role } from './types.js';
import { DEFAULTS } from './defaults.js';
import { tryParseCidr, tryParseIPv4, type Cidr } from './cidr.js';

export interface LooseHost {
  index: number;
  name?: string;
  address?: number;
  addressText?: string;
  roles: Role[];
  /** Index of each valid role string inside the roles list (for duplicate detection). */
  roleIndexes: { role: Role; index: number }[];
  rolesIsArray: boolean;
  rolesLength: number;
  /** roles is missing, not a list, or holds unknown roles (already reported by the schema). */
  rolesUnreadable: boolean;
  sshUser?: string;
}

/** A section that says where things come from (binaries, images): its source and which of its fields are set. */
export interface SourceView {
  source?: string;
  hasMirror: boolean;
  hasDirectory: boolean;
}

export interface LooseSpec {
  hostsIsArray: boolean;
  hosts: LooseHost[];
  infrastructure?: Cidr;
  pods?: Cidr;
  nodeMask?: number;
  services?: Cidr;
  clusterDns?: number;
  clusterDnsText?: string;
  lbPort?: number;
  externalAddress?: number;
  externalText?: string;
  externalPresent: boolean;
  binaries: SourceView;
  images: SourceView;
  containerdVersion?: string;
  ssh: { user?: string; identityFile?: string; fingerprints?: Record<string, unknown> };
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Value of a field, the default when absent, undefined when present with the wrong type. */
function str(o: Record<string, unknown> | undefined, key: string, dflt?: string): string | undefined {
  const v = o?.[key];
  if (v === undefined) return dflt;
  return typeof v === 'string' ? v : undefined;
}

function num(o: Record<string, unknown> | undefined, key: string, dflt?: number): number | undefined {
  const v = o?.[key];
  if (v === undefined) return dflt;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function cidrOrUndef(s: string | undefined): Cidr | undefined {
  if (s === undefined) return undefined;
  const r = tryParseCidr(s);
  return r.ok ? r.value : undefined;
}

function ipOrUndef(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const r = tryParseIPv4(s);
  return r.ok ? r.value : undefined;
}

function looseHost(h: unknown, index: number): LooseHost {
  const o = obj(h);
  const rolesRaw = o?.['roles'];
  const roleIndexes: { role: Role; index: number }[] = [];
  if (Array.isArray(rolesRaw)) {
    rolesRaw.forEach((r, i) => {
      if (typeof r === 'string' && (ROLES as readonly string[]).includes(r)) roleIndexes.push({ role: r as Role, index: i });
    });
  }
  const lh: LooseHost = {
    index,
    roles: [...new Set(roleIndexes.map((r) => r.role))],
    roleIndexes,
    rolesIsArray: Array.isArray(rolesRaw),
    rolesLength: Array.isArray(rolesRaw) ? rolesRaw.length : 0,
    rolesUnreadable: !Array.isArray(rolesRaw) || roleIndexes.length !== rolesRaw.length,
  };
  const name = str(o, 'name');
  if (name !== undefined) lh.name = name;
  const addressText = str(o, 'address');
  const address = ipOrUndef(addressText);
  if (address !== undefined && addressText !== undefined) {
    lh.address = address;
    lh.addressText = addressText;
  }
  const sshUser = str(obj(o?.['ssh']), 'user');
  if (sshUser !== undefined) lh.sshUser = sshUser;
  return lh;
}

export function looseView(data: unknown): LooseSpec {
  const top = obj(data) ?? {};
  const hostsRaw = top['hosts'];
  const section = (key: string) => (top[key] === undefined ? {} : obj(top[key]));
  const networks = section('networks');
  const lb = section('loadBalancer');
  const bin = section('binaries');
  const images = section('images');
  const versions = section('versions');
  const ssh = section('ssh');
  const external = lb?.['external'];

  const out: LooseSpec = {
    hostsIsArray: Array.isArray(hostsRaw),
    hosts: Array.isArray(hostsRaw) ? hostsRaw.map(looseHost) : [],
    externalPresent: external !== undefined && external !== null,
    binaries: { hasMirror: bin?.['mirror'] !== undefined, hasDirectory: bin?.['directory'] !== undefined },
    images: { hasMirror: images?.['mirror'] !== undefined, hasDirectory: images?.['directory'] !== undefined },
    ssh: {},
  };
  const set = <K extends keyof LooseSpec>(k: K, v: LooseSpec[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  if (networks) {
    set('infrastructure', cidrOrUndef(str(networks, 'infrastructure')));
    set('pods', cidrOrUndef(str(networks, 'pods', DEFAULTS.networks.pods)));
    const nm = num(networks, 'nodeMask', DEFAULTS.networks.nodeMask);
    set('nodeMask', nm !== undefined && Number.isInteger(nm) ? nm : undefined);
    set('services', cidrOrUndef(str(networks, 'services', DEFAULTS.networks.services)));
    const dnsText = str(networks, 'clusterDns', DEFAULTS.networks.clusterDns);
    set('clusterDns', ipOrUndef(dnsText));
    set('clusterDnsText', dnsText);
  }
  if (lb) {
    set('lbPort', num(lb, 'port', DEFAULTS.loadBalancer.port));
    const extText = str(obj(external), 'address');
    set('externalAddress', ipOrUndef(extText));
    set('externalText', extText);
  }
  if (bin) {
    const source = str(bin, 'source', DEFAULTS.binaries.source);
    if (source !== undefined) out.binaries.source = source;
  }
  if (images) {
    const source = str(images, 'source', DEFAULTS.images.source);
    if (source !== undefined) out.images.source = source;
  }
  if (versions) set('containerdVersion', str(versions, 'containerd', DEFAULTS.versions.containerd));
  if (ssh) {
    const user = str(ssh, 'user', DEFAULTS.ssh.user);
    if (user !== undefined) out.ssh.user = user;
    const identityFile = str(ssh, 'identityFile');
    if (identityFile !== undefined) out.ssh.identityFile = identityFile;
    const fingerprints = obj(ssh['fingerprints']);
    if (fingerprints) out.ssh.fingerprints = fingerprints;
  }
  return out;
}
