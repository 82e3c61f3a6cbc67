// Validation of cluster.yaml: YAML syntax, schema (model/spec.ts) and cross-field rules, reported all at
// once as Problems with a field path, a message, a fix and (when locatable) line and column. Pure; never
// throws for bad input.
//
// Rule ids (Problem.code):
//   yaml-syntax, yaml-warning, empty-file, not-a-mapping, unknown-field, required, wrong-type,
//   invalid-value, invalid-name, invalid-address, invalid-cidr, invalid-port, invalid-version, invalid-url,
//   invalid-path, empty, no-hosts, empty-roles, duplicate-role, duplicate-name, duplicate-address,
//   address-outside-infrastructure, address-reserved, address-in-pod-range, address-in-service-range,
//   no-ca, multiple-ca, no-etcd, etcd-even, etcd-single (warning), no-loadbalancer, multiple-loadbalancers,
//   loadbalancer-conflict, port-conflict, no-controlplane, no-worker, multiple-admins,
//   ranges-overlap, node-mask-range, node-mask-too-fine, pod-range-too-small, service-range-too-large,
//   dns-outside-service-range, dns-is-network-address, dns-is-kubernetes-service, dns-is-broadcast,
//   mirror-required, directory-required, unused-field (warning), unknown-fingerprint-host (warning),
//   invalid-fingerprint, internal.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ROLES, type ClusterSpec, type Problem, type Role, type Severity } from './types.js';
import { ClusterFileSchema, DEFAULTS, allowedKeysAt } from './spec.js';
import {
  cidrContains,
  cidrOf,
  cidrsOverlap,
  formatCidr,
  formatIPv4,
  isNetworkOrBroadcast,
  lastAddress,
  nthAddress,
  cidrSize,
  tryParseCidr,
  tryParseIPv4,
  type Cidr,
} from './cidr.js';
import { KUBELET_ROLES } from './roles.js';

/** The port kube-apiserver listens on, on every control plane. */
export const APISERVER_PORT = 6443;
/** kube-controller-manager refuses a node mask more than 16 bits longer than the cluster CIDR's prefix. */
export const MAX_NODE_MASK_DIFF = 16;
/** kube-apiserver refuses an IPv4 service range larger than a /12. */
export const MIN_SERVICE_PREFIX = 12;

export type ParseResult = { ok: true; spec: ClusterSpec; warnings: Problem[] } | { ok: false; problems: Problem[] };

type Seg = string | number;

interface RawProblem {
  severity: Severity;
  segs: Seg[];
  message: string;
  fix?: string;
  code: string;
  /** Point at the key of the last segment rather than its value (unknown fields). */
  atKey?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Public API

/**
 * Parse and validate the text of a cluster file. Reports every problem found (errors and warnings); never
 * throws. `fileName` is only used in messages of internal failures.
 */
export function parseClusterFile(text: string, fileName = 'cluster.yaml'): ParseResult {
  try {
    return parseUnsafe(text);
  } catch (e) {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: `internal error while validating ${fileName}: ${e instanceof Error ? e.message : String(e)}`,
          fix: 'report this as a bug in hardway, with the cluster file',
          code: 'internal',
        },
      ],
    };
  }
}

/**
 * Validate an already-typed spec (e.g. one built in code, or after adding a worker): schema formats and
 * every cross-field rule. Returns errors and warnings, without line numbers. Never throws.
 */
export function validateSpec(spec: ClusterSpec): Problem[] {
  try {
    const raw: RawProblem[] = [];
    const parsed = ClusterFileSchema.safeParse(spec, { reportInput: true });
    if (!parsed.success) raw.push(...parsed.error.issues.flatMap(fromZodIssue));
    raw.push(...crossCheck(loose(spec)));
    return raw.map((p) => toProblem(p));
  } catch (e) {
    return [{ severity: 'error', path: '', message: `internal error while validating: ${e instanceof Error ? e.message : String(e)}`, fix: 'report this as a bug in hardway', code: 'internal' }];
  }
}

/**
 * Human-readable report, one problem per line:
 *   cluster.yaml:12:5 hosts[3].address: "192.168.56.300" is not an IPv4 address ... — fix: ...
 * followed by a summary line.
 */
export function formatProblems(problems: readonly Problem[], fileName = 'cluster.yaml'): string {
  const lines = problems.map((p) => {
    const where = p.line !== undefined ? `${fileName}:${p.line}:${p.column ?? 1}` : fileName;
    const sev = p.severity === 'warning' ? ' warning:' : ' error:';
    const path = p.path ? ` ${p.path}:` : '';
    const fix = p.fix ? ` — fix: ${p.fix}` : '';
    return `${where}${sev}${path} ${p.message}${fix}`;
  });
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  lines.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return lines.join('\n');
}

/** The closest candidate by edit distance (case-insensitive), if it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(word.length / 3));
  if (bestDist <= limit) return best;
  // "infra" -> "infrastructure": a prefix of at least 4 characters.
  if (w.length >= 4) {
    const pre = candidates.find((c) => c.toLowerCase().startsWith(w));
    if (pre) return pre;
  }
  return undefined;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** "hosts[3].address" from ["hosts", 3, "address"]. */
export function formatPath(segs: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Parsing

function parseUnsafe(text: string): ParseResult {
  const lineCounter = new LineCounter();
  const source = typeof text === 'string' ? text : String(text);
  const doc = parseDocument(source, {
    lineCounter,
    keepSourceTokens: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const pos = (offset: number | undefined) => {
    if (offset === undefined) return {};
    // Errors may start at the indentation: point at the first character that is not a space.
    while (offset < source.length && (source[offset] === ' ' || source[offset] === '\t')) offset++;
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };

  const yamlWarnings: Problem[] = doc.warnings.map((w) => ({
    severity: 'warning' as const,
    path: '',
    message: w.message,
    fix: 'check this YAML construct',
    code: 'yaml-warning',
    ...pos(w.pos[0]),
  }));
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.map((e) => ({
      severity: 'error' as const,
      path: '',
      message: `YAML syntax error: ${e.message}`,
      fix: yamlFix(e.code),
      code: 'yaml-syntax',
      ...pos(e.pos[0]),
    }));
    return { ok: false, problems: sortProblems([...problems, ...yamlWarnings]) };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: `YAML could not be read: ${e instanceof Error ? e.message : String(e)}`,
          fix: 'simplify the YAML (avoid deeply nested aliases)',
          code: 'yaml-syntax',
        },
      ],
    };
  }

  if (data === null || data === undefined) {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: 'the cluster file is empty',
          fix: 'describe the cluster: start from examples/seed-cluster.yaml',
          code: 'empty-file',
          line: 1,
          column: 1,
        },
      ],
    };
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: `the cluster file must be a mapping of fields (name:, hosts:, networks: ...), not ${describe(data)}`,
          fix: 'start from examples/seed-cluster.yaml',
          code: 'not-a-mapping',
          ...pos(doc.contents?.range?.[0]),
        },
      ],
    };
  }

  data = dropEmptySections(data as Record<string, unknown>);
  const raw: RawProblem[] = [];
  const parsed = ClusterFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) raw.push(...parsed.error.issues.flatMap(fromZodIssue));
  raw.push(...crossCheck(loose(data)));

  const problems = sortProblems([...raw.map((p) => toProblem(p, doc, lineCounter)), ...yamlWarnings]);
  const hasErrors = problems.some((p) => p.severity === 'error');
  if (hasErrors || !parsed.success) return { ok: false, problems };
  return { ok: true, spec: parsed.data, warnings: problems };
}

/**
 * An optional section written with nothing under it ("networks:" followed only by comments) is null in
 * YAML: treat it as absent, so its defaults apply. Returns a shallow copy; the input is not modified.
 */
function dropEmptySections(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const key of ['networks', 'loadBalancer', 'versions', 'binaries', 'ssh', 'preflight']) {
    if (out[key] === null) delete out[key];
  }
  if (Array.isArray(out['hosts'])) {
    out['hosts'] = out['hosts'].map((h: unknown) => {
      if (h !== null && typeof h === 'object' && !Array.isArray(h) && (h as Record<string, unknown>)['ssh'] === null) {
        const copy = { ...(h as Record<string, unknown>) };
        delete copy['ssh'];
        return copy;
      }
      return h;
    });
  }
  return out;
}

function yamlFix(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'remove or rename one of the duplicate keys';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'check indentation and punctuation here: nested fields are indented with spaces, and "key: value" needs a space after the colon';
    case 'MULTIPLE_DOCS':
      return 'keep a single YAML document in the file (remove the extra "---")';
    default:
      return 'correct the YAML syntax at this position';
  }
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const la = a.p.line ?? Infinity;
      const lb = b.p.line ?? Infinity;
      if (la !== lb) return la - lb;
      const ca = a.p.column ?? 0;
      const cb = b.p.column ?? 0;
      return ca !== cb ? ca - cb : a.i - b.i;
    })
    .map((x) => x.p);
}

function toProblem(p: RawProblem, doc?: Document, lc?: LineCounter): Problem {
  const out: Problem = { severity: p.severity, path: formatPath(p.segs), message: p.message, code: p.code };
  if (p.fix !== undefined) out.fix = p.fix;
  if (doc && lc) {
    const offset = locate(doc, p.segs, p.atKey ?? false);
    if (offset !== undefined) {
      const lp = lc.linePos(offset);
      out.line = lp.line;
      out.column = lp.col;
    }
  }
  return out;
}

/** Source offset of the node at `segs` (or of its closest existing ancestor). */
function locate(doc: Document, segs: readonly Seg[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = rangeStart(node);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key);
      if (last && atKey) return keyStart ?? offset;
      const v = pair.value;
      // Point at scalar values; for nested collections and empty values, point at the key.
      if (isScalar(v) && v.value !== null && rangeStart(v) !== undefined) offset = rangeStart(v);
      else offset = keyStart ?? offset;
      node = v;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined || item === null) return offset;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? r[0] : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Zod issues -> problems

const REQUIRED_FIX: Record<string, string> = {
  name: 'add a cluster name, e.g. "name: hardway"',
  hosts: 'add a "hosts:" list (see examples/seed-cluster.yaml)',
  'hosts[].name': 'give the host a name, e.g. "name: worker-3"',
  'hosts[].address': 'give the host its infrastructure IPv4 address, e.g. "address: 192.168.56.33"',
  'hosts[].roles': 'list the host\'s roles, e.g. "roles: [worker]" (ca, etcd, loadbalancer, controlplane, worker, admin)',
  'loadBalancer.external.address': 'give the external load balancer\'s IPv4 address',
};

function genericPath(segs: readonly PropertyKey[]): string {
  return formatPath(segs.map((s) => (typeof s === 'number' ? -1 : s))).replace(/\[-1\]/g, '[]');
}

function fromZodIssue(issue: z.core.$ZodIssue): RawProblem[] {
  const segs = issue.path.filter((s): s is Seg => typeof s === 'string' || typeof s === 'number');
  const where = formatPath(segs);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(segs) ?? [];
      return issue.keys.map((key) => {
        const guess = didYouMean(key, allowed);
        const at = where ? ` in ${where}` : ' at the top level';
        return {
          severity: 'error' as const,
          segs: [...segs, key],
          atKey: true,
          code: 'unknown-field',
          message: `unknown field "${key}"${at}${guess ? ` (did you mean "${guess}"?)` : ''}`,
          fix: guess ? `rename "${key}" to "${guess}"` : `remove "${key}"; the fields allowed here are: ${allowed.join(', ')}`,
        };
      });
    }
    case 'invalid_type': {
      const input = issue.input;
      if (input === undefined) {
        const g = genericPath(segs);
        return [{ severity: 'error', segs, code: 'required', message: 'missing: this field is required', fix: REQUIRED_FIX[g] ?? `add "${String(segs[segs.length - 1])}"` }];
      }
      const expected = expectedText(issue.expected);
      let fix = `write ${expected} here`;
      if ((issue.expected === 'number' || issue.expected === 'int') && typeof input === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(input)) {
        fix = `remove the quotes: ${input.trim()}`;
      } else if (issue.expected === 'int' && typeof input === 'number') {
        fix = `use a whole number such as ${Math.round(input)}`;
      } else if (issue.expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) {
        fix = `quote the value: "${String(input)}"`;
      } else if (issue.expected === 'array' && genericPath(segs) === 'hosts[].roles' && typeof input === 'string') {
        fix = `write a list: roles: [${input}]`;
      } else if (issue.expected === 'array') {
        fix = 'write a list ("- item" lines, or [a, b])';
      } else if (issue.expected === 'object') {
        fix = 'write a mapping of fields ("key: value" lines) here';
      }
      return [{ severity: 'error', segs, code: 'wrong-type', message: `expected ${expected}, got ${describe(input)}`, fix }];
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      const input = issue.input;
      const guess = typeof input === 'string' ? didYouMean(input, values) : undefined;
      return [
        {
          severity: 'error',
          segs,
          code: 'invalid-value',
          message: `${JSON.stringify(input)} is not one of: ${values.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`,
          fix: guess ? `use "${guess}"` : `use one of: ${values.join(', ')}`,
        },
      ];
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { fix?: string; rule?: string };
      const p: RawProblem = { severity: 'error', segs, code: params.rule ?? 'invalid-value', message: issue.message };
      if (params.fix) p.fix = params.fix;
      return [p];
    }
    default:
      return [{ severity: 'error', segs, code: 'invalid-value', message: issue.message, fix: 'correct this value' }];
  }
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v)}`;
    case 'number':
      return `the number ${v}`;
    case 'boolean':
      return `${v}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------------
// Cross-field rules on a tolerant view of the data (wrong types are skipped: the schema reports them).

interface LooseHost {
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
}

interface LooseSpec {
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
  binaries: { source?: string; hasMirror: boolean; hasDirectory: boolean };
  fingerprints?: Record<string, unknown>;
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

function loose(data: unknown): LooseSpec {
  const top = obj(data) ?? {};
  const hostsRaw = top['hosts'];
  const hosts: LooseHost[] = [];
  if (Array.isArray(hostsRaw)) {
    hostsRaw.forEach((h, index) => {
      const o = obj(h);
      const rolesRaw = o?.['roles'];
      const roleIndexes: { role: Role; index: number }[] = [];
      if (Array.isArray(rolesRaw)) {
        rolesRaw.forEach((r, i) => {
          if (typeof r === 'string' && (ROLES as readonly string[]).includes(r)) roleIndexes.push({ role: r as Role, index: i });
        });
      }
      const addressText = str(o, 'address');
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
      const address = ipOrUndef(addressText);
      if (address !== undefined && addressText !== undefined) {
        lh.address = address;
        lh.addressText = addressText;
      }
      hosts.push(lh);
    });
  }
  const networksRaw = top['networks'];
  const networks = networksRaw === undefined ? {} : obj(networksRaw);
  const lbRaw = top['loadBalancer'];
  const lb = lbRaw === undefined ? {} : obj(lbRaw);
  const external = lb?.['external'];
  const binRaw = top['binaries'];
  const bin = binRaw === undefined ? {} : obj(binRaw);
  const sshRaw = obj(top['ssh']);

  const out: LooseSpec = {
    hostsIsArray: Array.isArray(hostsRaw),
    hosts,
    externalPresent: external !== undefined && external !== null,
    binaries: {
      hasMirror: bin?.['mirror'] !== undefined,
      hasDirectory: bin?.['directory'] !== undefined,
    },
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
    const port = num(lb, 'port', DEFAULTS.loadBalancer.port);
    set('lbPort', port);
    const extText = str(obj(external), 'address');
    set('externalAddress', ipOrUndef(extText));
    set('externalText', extText);
  }
  if (bin) {
    const source = str(bin, 'source', DEFAULTS.binaries.source);
    if (source !== undefined) out.binaries.source = source;
  }
  const fp = obj(sshRaw?.['fingerprints']);
  if (fp) out.fingerprints = fp;
  return out;
}

function crossCheck(l: LooseSpec): RawProblem[] {
  const out: RawProblem[] = [];
  const err = (segs: Seg[], code: string, message: string, fix: string) => out.push({ severity: 'error', segs, code, message, fix });
  const warn = (segs: Seg[], code: string, message: string, fix: string) => out.push({ severity: 'warning', segs, code, message, fix });
  const hostLabel = (h: LooseHost) => (h.name !== undefined ? `host "${h.name}"` : `hosts[${h.index}]`);

  // --- hosts: names, addresses, roles ---------------------------------------------------------------
  if (l.hostsIsArray && l.hosts.length === 0) {
    err(['hosts'], 'no-hosts', 'the hosts list is empty', 'list the cluster\'s hosts with their addresses and roles (see examples/seed-cluster.yaml)');
  }
  const byName = new Map<string, LooseHost>();
  const byAddress = new Map<number, LooseHost>();
  for (const h of l.hosts) {
    if (h.rolesIsArray && h.rolesLength === 0) {
      err(['hosts', h.index, 'roles'], 'empty-roles', `${hostLabel(h)} has no roles`, 'give it at least one role: ca, etcd, loadbalancer, controlplane, worker or admin — or remove the host');
    }
    const seen = new Set<Role>();
    for (const { role, index } of h.roleIndexes) {
      if (seen.has(role)) {
        err(['hosts', h.index, 'roles', index], 'duplicate-role', `${hostLabel(h)} lists the role "${role}" more than once`, `remove the second "${role}"`);
      }
      seen.add(role);
    }
    if (h.name !== undefined) {
      const first = byName.get(h.name);
      if (first) {
        err(['hosts', h.index, 'name'], 'duplicate-name', `host name "${h.name}" is already used by hosts[${first.index}]`, 'give every host a unique name');
      } else byName.set(h.name, h);
    }
    if (h.address !== undefined) {
      const first = byAddress.get(h.address);
      if (first) {
        err(['hosts', h.index, 'address'], 'duplicate-address', `address ${h.addressText} is already used by ${hostLabel(first)}`, 'give every host its own IPv4 address');
      } else byAddress.set(h.address, h);

      if (l.infrastructure) {
        const infra = formatCidr(l.infrastructure);
        if (!cidrContains(l.infrastructure, h.address)) {
          err(['hosts', h.index, 'address'], 'address-outside-infrastructure', `address ${h.addressText} of ${hostLabel(h)} is outside the infrastructure network ${infra}`, `use an address inside ${infra}, or correct networks.infrastructure`);
        } else if (isNetworkOrBroadcast(l.infrastructure, h.address)) {
          const which = h.address === l.infrastructure.network ? 'network' : 'broadcast';
          err(['hosts', h.index, 'address'], 'address-reserved', `address ${h.addressText} of ${hostLabel(h)} is the ${which} address of ${infra}`, `use a host address between ${formatIPv4(l.infrastructure.network + 1)} and ${formatIPv4(lastAddress(l.infrastructure) - 1)}`);
        }
      }
      if (l.pods && cidrContains(l.pods, h.address)) {
        err(['hosts', h.index, 'address'], 'address-in-pod-range', `address ${h.addressText} of ${hostLabel(h)} is inside the pod range ${formatCidr(l.pods)}`, 'choose a pod range (networks.pods) that exists nowhere on your network');
      }
      if (l.services && cidrContains(l.services, h.address)) {
        err(['hosts', h.index, 'address'], 'address-in-service-range', `address ${h.addressText} of ${hostLabel(h)} is inside the service range ${formatCidr(l.services)}`, 'choose a service range (networks.services) that exists nowhere on your network');
      }
    }
  }

  // --- role counts -----------------------------------------------------------------------------------
  if (l.hosts.length > 0) {
    const withRole = (r: Role) => l.hosts.filter((h) => h.roles.includes(r));
    // When some host's roles could not be read, "no host has role X" may be a consequence of that
    // (already reported); report only the rules that more roles could not fix.
    const rolesKnown = !l.hosts.some((h) => h.rolesUnreadable);
    const names = (hs: LooseHost[]) => hs.map((h) => h.name ?? `hosts[${h.index}]`).join(', ');

    const cas = withRole('ca');
    if (cas.length === 0) {
      if (rolesKnown) err(['hosts'], 'no-ca', 'no host has the role "ca": exactly one certificate authority is required', 'add the role ca to one host (it keeps the CA private key)');
    } else if (cas.length > 1) {
      for (const h of cas.slice(1)) {
        err(['hosts', h.index, 'roles'], 'multiple-ca', `${cas.length} hosts have the role "ca" (${names(cas)}); exactly one certificate authority is allowed`, `remove the role ca from ${hostLabel(h)}`);
      }
    }

    const etcd = withRole('etcd');
    if (etcd.length === 0) {
      if (rolesKnown) err(['hosts'], 'no-etcd', 'no host has the role "etcd": the cluster needs an etcd cluster', 'add the role etcd to 3 hosts (5 for large production clusters)');
    } else if (etcd.length % 2 === 0) {
      if (rolesKnown) err(['hosts'], 'etcd-even', `there are ${etcd.length} etcd members (${names(etcd)}): etcd needs an odd number, an even count adds no fault tolerance and can split the vote`, `use ${etcd.length - 1} or ${etcd.length + 1} etcd members`);
    } else if (etcd.length === 1 && rolesKnown) {
      warn(['hosts', etcd[0]!.index, 'roles'], 'etcd-single', `only one etcd member (${names(etcd)}): the cluster has no fault tolerance, losing that host loses the cluster state`, 'use 3 etcd members (5 for large production clusters)');
    }

    const lbs = withRole('loadbalancer');
    if (l.externalPresent) {
      for (const h of lbs) {
        err(['hosts', h.index, 'roles'], 'loadbalancer-conflict', `${hostLabel(h)} has the role "loadbalancer" but loadBalancer.external is set`, 'either remove the role loadbalancer from this host, or remove loadBalancer.external');
      }
    } else if (lbs.length === 0) {
      if (rolesKnown) err(['hosts'], 'no-loadbalancer', 'no host has the role "loadbalancer" and no loadBalancer.external.address is set: the API servers need one front end', 'add the role loadbalancer to one host, or set loadBalancer.external.address');
    } else if (lbs.length > 1) {
      for (const h of lbs.slice(1)) {
        err(['hosts', h.index, 'roles'], 'multiple-loadbalancers', `${lbs.length} hosts have the role "loadbalancer" (${names(lbs)}); exactly one is allowed`, `remove the role loadbalancer from ${hostLabel(h)}, or use loadBalancer.external for an HA front end`);
      }
    }
    if (l.lbPort === APISERVER_PORT && !l.externalPresent) {
      for (const h of lbs) {
        if (h.roles.includes('controlplane')) {
          err(['hosts', h.index, 'roles'], 'port-conflict', `${hostLabel(h)} is both loadbalancer and controlplane: haproxy (loadBalancer.port ${l.lbPort}) and kube-apiserver (port ${APISERVER_PORT}) would both listen on port ${APISERVER_PORT}`, 'set loadBalancer.port to another port such as 8443, or move the loadbalancer role to its own host');
        }
      }
    }

    if (rolesKnown && withRole('controlplane').length === 0) {
      err(['hosts'], 'no-controlplane', 'no host has the role "controlplane"', 'add the role controlplane to at least one host (two or more for high availability)');
    }
    if (rolesKnown && withRole('worker').length === 0) {
      err(['hosts'], 'no-worker', 'no host has the role "worker": pods would have nowhere to run', 'add the role worker to at least one host');
    }
    const admins = withRole('admin');
    if (admins.length > 1) {
      for (const h of admins.slice(1)) {
        err(['hosts', h.index, 'roles'], 'multiple-admins', `${admins.length} hosts have the role "admin" (${names(admins)}); at most one is allowed`, `remove the role admin from ${hostLabel(h)} (zero admin hosts is fine: use \`hardway kubeconfig\` on your workstation)`);
      }
    }
  }

  // --- load balancer external address ------------------------------------------------------------------
  if (l.externalAddress !== undefined) {
    const segs: Seg[] = ['loadBalancer', 'external', 'address'];
    if (l.pods && cidrContains(l.pods, l.externalAddress)) {
      err(segs, 'address-in-pod-range', `the external load balancer address ${l.externalText} is inside the pod range ${formatCidr(l.pods)}`, 'use the load balancer\'s real address, outside networks.pods');
    }
    if (l.services && cidrContains(l.services, l.externalAddress)) {
      err(segs, 'address-in-service-range', `the external load balancer address ${l.externalText} is inside the service range ${formatCidr(l.services)}`, 'use the load balancer\'s real address, outside networks.services');
    }
  }

  // --- networks --------------------------------------------------------------------------------------
  const { pods, services, infrastructure: infra } = l;
  if (pods && services && cidrsOverlap(pods, services)) {
    err(['networks', 'services'], 'ranges-overlap', `the service range ${formatCidr(services)} overlaps the pod range ${formatCidr(pods)}`, 'use two separate ranges, e.g. pods 10.244.0.0/16 and services 10.32.0.0/24');
  }
  if (infra && pods && cidrsOverlap(infra, pods)) {
    err(['networks', 'pods'], 'ranges-overlap', `the pod range ${formatCidr(pods)} overlaps the infrastructure network ${formatCidr(infra)}`, 'choose a pod range that exists nowhere on your network (e.g. 10.244.0.0/16)');
  }
  if (infra && services && cidrsOverlap(infra, services)) {
    err(['networks', 'services'], 'ranges-overlap', `the service range ${formatCidr(services)} overlaps the infrastructure network ${formatCidr(infra)}`, 'choose a service range that exists nowhere on your network (e.g. 10.32.0.0/24)');
  }

  if (pods && l.nodeMask !== undefined) {
    const m = l.nodeMask;
    if (m < pods.prefix || m > 30) {
      err(['networks', 'nodeMask'], 'node-mask-range', `nodeMask ${m} must be between the pod range's prefix (${pods.prefix}) and 30`, `use a node mask from ${Math.min(pods.prefix, 30)} to 30; 24 (256 pod addresses per node) is usual`);
    } else if (m - pods.prefix > MAX_NODE_MASK_DIFF) {
      err(['networks', 'nodeMask'], 'node-mask-too-fine', `nodeMask ${m} is ${m - pods.prefix} bits longer than the pod range /${pods.prefix}; kube-controller-manager allows at most ${MAX_NODE_MASK_DIFF}`, `use a node mask of at most ${pods.prefix + MAX_NODE_MASK_DIFF}, or a smaller pod range`);
    } else {
      const nodes = l.hosts.filter((h) => h.roles.some((r) => KUBELET_ROLES.includes(r)));
      const capacity = 2 ** (m - pods.prefix);
      if (nodes.length > capacity) {
        const bits = Math.ceil(Math.log2(nodes.length));
        const needPrefix = m - bits;
        const fix =
          needPrefix >= 0
            ? `use a larger pod range such as ${formatCidr(cidrOf(pods.network, needPrefix))}, or a longer nodeMask (${Math.min(30, pods.prefix + bits)})`
            : 'use fewer nodes or a longer nodeMask';
        err(['networks', 'pods'], 'pod-range-too-small', `the pod range ${formatCidr(pods)} holds ${capacity} node range(s) of /${m}, but ${nodes.length} hosts run a kubelet (controlplane and worker)`, fix);
      }
    }
  }

  if (services) {
    if (services.prefix < MIN_SERVICE_PREFIX) {
      err(['networks', 'services'], 'service-range-too-large', `the service range ${formatCidr(services)} is larger than a /${MIN_SERVICE_PREFIX}, which kube-apiserver refuses`, `use a /${MIN_SERVICE_PREFIX} or smaller, e.g. ${formatCidr(cidrOf(services.network, 24))}`);
    }
    if (l.clusterDns !== undefined) {
      const dns = l.clusterDns;
      const suggestion = cidrSize(services) > 11 ? formatIPv4(nthAddress(services, 10)) : cidrSize(services) > 3 ? formatIPv4(nthAddress(services, 2)) : undefined;
      const fixDns = suggestion ? `use ${suggestion}` : 'use a larger service range';
      const segs: Seg[] = ['networks', 'clusterDns'];
      if (!cidrContains(services, dns)) {
        err(segs, 'dns-outside-service-range', `clusterDns ${l.clusterDnsText} is outside the service range ${formatCidr(services)}`, fixDns);
      } else if (dns === services.network) {
        err(segs, 'dns-is-network-address', `clusterDns ${l.clusterDnsText} is the network address of the service range ${formatCidr(services)}`, fixDns);
      } else if (dns === services.network + 1) {
        err(segs, 'dns-is-kubernetes-service', `clusterDns ${l.clusterDnsText} is the first address of the service range, which belongs to the "kubernetes" service`, fixDns);
      } else if (isNetworkOrBroadcast(services, dns)) {
        err(segs, 'dns-is-broadcast', `clusterDns ${l.clusterDnsText} is the broadcast address of the service range ${formatCidr(services)}`, fixDns);
      }
    }
  }

  // --- binaries --------------------------------------------------------------------------------------
  const src = l.binaries.source;
  if (src === 'mirror' && !l.binaries.hasMirror) {
    err(['binaries', 'mirror'], 'mirror-required', 'binaries.source is "mirror" but binaries.mirror is not set', 'add binaries.mirror: the base URL of your mirror, e.g. https://mirror.example.com/kubernetes');
  }
  if (src === 'local' && !l.binaries.hasDirectory) {
    err(['binaries', 'directory'], 'directory-required', 'binaries.source is "local" but binaries.directory is not set', 'add binaries.directory: the directory on this machine that holds the binaries');
  }
  if (src !== undefined && src !== 'mirror' && l.binaries.hasMirror) {
    warn(['binaries', 'mirror'], 'unused-field', `binaries.mirror is ignored because binaries.source is "${src}"`, 'set binaries.source: mirror, or remove binaries.mirror');
  }
  if (src !== undefined && src !== 'local' && l.binaries.hasDirectory) {
    warn(['binaries', 'directory'], 'unused-field', `binaries.directory is ignored because binaries.source is "${src}"`, 'set binaries.source: local, or remove binaries.directory');
  }

  // --- ssh fingerprints --------------------------------------------------------------------------------
  if (l.fingerprints) {
    const hostNames = l.hosts.map((h) => h.name).filter((n): n is string => n !== undefined);
    for (const [key, value] of Object.entries(l.fingerprints)) {
      if (!hostNames.includes(key)) {
        const guess = didYouMean(key, hostNames);
        warn(['ssh', 'fingerprints', key], 'unknown-fingerprint-host', `fingerprint for "${key}", which is not a host in this file${guess ? ` (did you mean "${guess}"?)` : ''}`, guess ? `rename it to "${guess}"` : 'remove it, or correct the host name');
      }
      if (typeof value === 'string' && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(value)) {
        err(['ssh', 'fingerprints', key], 'invalid-fingerprint', `fingerprint "${value}" is not an OpenSSH SHA256 fingerprint`, 'copy it from `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host, e.g. SHA256:abc...');
      }
    }
  }

  return out;
}
