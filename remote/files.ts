// Converging files on a host: compare first (one command), write only what differs (one command),
// atomically (temp file in the same directory, owner and mode set before any content is written,
// then rename). Content travels over stdin only: never in a command line, never logged.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';

import type { RemoteHost } from './exec.js';
import { shellQuote } from './exec.js';

export interface PutFileOptions {
  /** Octal mode, e.g. "0644" (default) or "0600" for keys. */
  mode?: string;
  /** Owner name or numeric uid. Default "root". */
  owner?: string;
  /** Group name or numeric gid. Default "root". */
  group?: string;
}

export type PutFileAction = 'created' | 'updated' | 'metadata' | 'unchanged';

export interface PutFileResult {
  changed: boolean;
  action: PutFileAction;
}

export interface RemoteFileState {
  path: string;
  exists: boolean;
  /** sha256 hex of the content; undefined when missing or not a regular file (e.g. a symlink). */
  sha256?: string;
  /** Permission bits, e.g. 0o644. */
  mode?: number;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  /** stat %F, e.g. "regular file", "regular empty file", "symbolic link", "directory". */
  type?: string;
}

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

function parseMode(mode: string): number {
  if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`Invalid file mode ${JSON.stringify(mode)} (expected octal like "0644")`);
  return parseInt(mode, 8);
}

function assertPath(path: string): void {
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('\0') || path.includes('\n')) {
    throw new Error(`Remote path must be an absolute file path without newlines: ${JSON.stringify(path)}`);
  }
}

function assertName(kind: string, v: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(v)) throw new Error(`Invalid ${kind} ${JSON.stringify(v)}`);
}

/** One shell snippet that prints one line per path: "<sha256|-|ERR> <mode> <uid> <gid> <user> <group> <type>" or "MISSING". */
export function statScript(paths: readonly string[]): string {
  paths.forEach(assertPath);
  return (
    `for p in ${paths.map(shellQuote).join(' ')}; do ` +
    `if [ -e "$p" ] || [ -L "$p" ]; then ` +
    `s=$(stat -c '%a %u %g %U %G %F' -- "$p"); h=-; ` +
    `if [ -f "$p" ] && [ ! -L "$p" ]; then h=$(sha256sum < "$p") || h=ERR; h=\${h%% *}; fi; ` +
    `printf '%s %s\\n' "\${h:-ERR}" "$s"; ` +
    `else echo MISSING; fi; done`
  );
}

export function parseStatLine(path: string, line: string): RemoteFileState {
  if (line.trim() === 'MISSING') return { path, exists: false };
  const m = /^(\S+) ([0-7]+) (\d+) (\d+) (\S+) (\S+) (.+)$/.exec(line.trim());
  if (!m) throw new Error(`Unexpected stat output for ${path}: ${JSON.stringify(line)}`);
  const st: RemoteFileState = {
    path,
    exists: true,
    mode: parseInt(m[2]!, 8) & 0o7777,
    uid: Number(m[3]),
    gid: Number(m[4]),
    owner: m[5]!,
    group: m[6]!,
    type: m[7]!,
  };
  if (/^[0-9a-f]{64}$/.test(m[1]!)) st.sha256 = m[1]!;
  return st;
}

/** State (hash, mode, owner) of several files in ONE command. */
export async function statFiles(host: RemoteHost, paths: readonly string[]): Promise<RemoteFileState[]> {
  if (paths.length === 0) return [];
  const r = await host.exec(statScript(paths));
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== paths.length) {
    throw new Error(`Unexpected stat output on ${host.label}: ${lines.length} lines for ${paths.length} paths`);
  }
  return paths.map((p, i) => parseStatLine(p, lines[i]!));
}

export async function statFile(host: RemoteHost, path: string): Promise<RemoteFileState> {
  const [s] = await statFiles(host, [path]);
  return s!;
}

function ownerMatches(want: string, name: string | undefined, id: number | undefined): boolean {
  return /^\d+$/.test(want) ? Number(want) === id : want === name;
}

interface Desired {
  path: string;
  content: Buffer;
  sha256: string;
  mode: number;
  modeStr: string;
  owner: string;
  group: string;
}

function desired(path: string, content: Buffer | string, opts: PutFileOptions): Desired {
  assertPath(path);
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
  const modeStr = opts.mode ?? '0644';
  const mode = parseMode(modeStr);
  const owner = opts.owner ?? 'root';
  const group = opts.group ?? 'root';
  assertName('owner', owner);
  assertName('group', group);
  return { path, content: buf, sha256: sha256Hex(buf), mode, modeStr: mode.toString(8).padStart(4, '0'), owner, group };
}

type Plan = { kind: 'unchanged' } | { kind: 'metadata' } | { kind: 'write'; action: 'created' | 'updated' };

function planFor(d: Desired, st: RemoteFileState): Plan {
  if (!st.exists) return { kind: 'write', action: 'created' };
  const regular = st.type === 'regular file' || st.type === 'regular empty file';
  if (!regular || st.sha256 !== d.sha256) return { kind: 'write', action: 'updated' };
  if (st.mode !== d.mode || !ownerMatches(d.owner, st.owner, st.uid) || !ownerMatches(d.group, st.group, st.gid)) {
    return { kind: 'metadata' };
  }
  return { kind: 'unchanged' };
}

/** What putFile would do to a file now in state `st`: nothing, fix owner and mode, or write the content. */
export function putFileAction(
  st: RemoteFileState,
  content: Buffer | string,
  opts: PutFileOptions = {},
): 'unchanged' | 'metadata' | 'created' | 'updated' {
  const p = planFor(desired(st.path, content, opts), st);
  return p.kind === 'write' ? p.action : p.kind;
}

/** Command that fixes owner and mode only (chown first: it may clear setuid bits). */
export function metadataScript(d: { path: string; owner: string; group: string; modeStr: string }): string {
  const p = shellQuote(d.path);
  return `chown ${shellQuote(`${d.owner}:${d.group}`)} -- ${p} && chmod ${d.modeStr} -- ${p}`;
}

/**
 * Command that writes stdin atomically to `path`: temp file in the same directory created 0600
 * (umask 077), chown+chmod to the final owner/mode BEFORE any content is written, content from
 * stdin, hash checked, then rename over the target.
 */
export function writeScript(d: { path: string; owner: string; group: string; modeStr: string; sha256: string }): string {
  const dir = posix.dirname(d.path);
  const base = posix.basename(d.path);
  const tmpl = `${dir === '/' ? '' : dir}/.${base.slice(0, 100)}.hardway.XXXXXX`;
  return [
    'set -e',
    `p=${shellQuote(d.path)}`,
    `d=${shellQuote(dir)}`,
    'umask 022',
    'mkdir -p -- "$d"',
    `if [ -d "$p" ] && [ ! -L "$p" ]; then echo "$p is a directory" >&2; exit 1; fi`,
    'umask 077',
    `t=$(mktemp ${shellQuote(tmpl)})`,
    `trap 'rm -f -- "$t"' EXIT`,
    `chown ${shellQuote(`${d.owner}:${d.group}`)} -- "$t"`,
    `chmod ${d.modeStr} -- "$t"`,
    'cat > "$t"',
    'h=$(sha256sum < "$t")',
    `if [ "\${h%% *}" != ${d.sha256} ]; then echo "content hash mismatch after transfer" >&2; exit 1; fi`,
    'mv -f -- "$t" "$p"',
    'trap - EXIT',
  ].join('\n');
}

async function apply(host: RemoteHost, d: Desired, plan: Plan): Promise<PutFileResult> {
  switch (plan.kind) {
    case 'unchanged':
      return { changed: false, action: 'unchanged' };
    case 'metadata':
      await host.exec(metadataScript(d));
      return { changed: true, action: 'metadata' };
    case 'write':
      await host.exec(writeScript(d), { input: d.content });
      return { changed: true, action: plan.action };
  }
}

/**
 * Converge one file: 1 command to compare (hash + mode + owner), then at most 1 command to write or
 * to fix mode/owner. `changed` is false when nothing was done.
 */
export async function putFile(host: RemoteHost, path: string, content: Buffer | string, opts: PutFileOptions = {}): Promise<PutFileResult> {
  const d = desired(path, content, opts);
  const st = await statFile(host, d.path);
  return apply(host, d, planFor(d, st));
}

export interface FileToPut extends PutFileOptions {
  path: string;
  content: Buffer | string;
}

/**
 * Converge many files on one host: ONE command compares them all, then one command per file that
 * differs. A second run on a converged host costs exactly one command.
 */
export async function putFiles(host: RemoteHost, files: readonly FileToPut[]): Promise<(PutFileResult & { path: string })[]> {
  const ds = files.map((f) => desired(f.path, f.content, f));
  const states = await statFiles(
    host,
    ds.map((d) => d.path),
  );
  const results: (PutFileResult & { path: string })[] = [];
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    results.push({ path: d.path, ...(await apply(host, d, planFor(d, states[i]!))) });
  }
  return results;
}

/** Content of a remote regular file, or null when it does not exist. One command. */
export async function readFile(host: RemoteHost, path: string): Promise<Buffer | null> {
  assertPath(path);
  const p = shellQuote(path);
  const r = await host.execBuffer(
    `if [ -f ${p} ]; then printf Y; exec cat -- ${p}; elif [ -e ${p} ]; then echo "${path.replace(/["$`\\]/g, '')} is not a regular file" >&2; exit 2; else printf N; fi`,
    { sensitiveOutput: true },
  );
  const marker = r.stdout.subarray(0, 1).toString('latin1');
  if (marker === 'N') return null;
  if (marker !== 'Y') throw new Error(`Unexpected readFile output on ${host.label} for ${path}`);
  return r.stdout.subarray(1);
}

/** sha256 hex of a remote regular file, or null when missing. One command. */
export async function fileSha256(host: RemoteHost, path: string): Promise<string | null> {
  const st = await statFile(host, path);
  return st.exists ? (st.sha256 ?? null) : null;
}

/** Remove a file if present. Returns changed=true when something was removed. One command. */
export async function removeFile(host: RemoteHost, path: string): Promise<{ changed: boolean }> {
  assertPath(path);
  const p = shellQuote(path);
  const r = await host.exec(`if [ -e ${p} ] || [ -L ${p} ]; then rm -f -- ${p} && echo removed; fi`);
  return { changed: r.stdout.includes('removed') };
}
