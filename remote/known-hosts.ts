// Pure OpenSSH known_hosts handling: parse, match hosts (plain, wildcard, negated, hashed, [host]:port),
// fingerprint raw public key blobs the way `ssh-keygen -l` does. No I/O here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type KnownHostMarker = '@revoked' | '@cert-authority';

export interface KnownHostEntry {
  /** 1-based line number in the file (for messages). */
  line: number;
  marker?: KnownHostMarker;
  /** Plain host patterns (comma-separated list split), e.g. ["host", "10.0.0.1", "[h]:2222", "!bad*", "*.lab"]. */
  patterns?: string[];
  /** Hashed host (`|1|salt|hash`): HMAC-SHA1(key=salt, data=hostname). */
  hashed?: { salt: Buffer; hash: Buffer };
  /** Key type as written in the file, e.g. "ssh-ed25519". */
  keyType: string;
  /** Raw public key blob (base64-decoded second field). */
  key: Buffer;
  /** "SHA256:..." of the key blob. */
  fingerprint: string;
  comment?: string;
}

export interface ParseResult {
  entries: KnownHostEntry[];
  /** Lines that could not be parsed (ignored, as OpenSSH does). */
  invalid: { line: number; reason: string }[];
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** OpenSSH-style fingerprint of a raw public key blob: "SHA256:<base64 without padding>". */
export function fingerprintOfKey(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** Normalise a user-written fingerprint ("SHA256:abc", "sha256:abc=", "abc") to "SHA256:abc". */
export function normalizeFingerprint(fp: string): string {
  let s = fp.trim();
  const m = /^sha256:/i.exec(s);
  if (m) s = s.slice(m[0].length);
  return 'SHA256:' + s.replace(/=+$/, '');
}

/** Key type stored inside an SSH public key blob (first string), or undefined when malformed. */
export function keyTypeOfBlob(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const len = key.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > key.length) return undefined;
  return key.subarray(4, 4 + len).toString('latin1');
}

/** Parse a known_hosts file. Comments, blank lines and malformed lines are skipped. */
export function parseKnownHosts(text: string): ParseResult {
  const entries: KnownHostEntry[] = [];
  const invalid: ParseResult['invalid'] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked' || m === '@cert-authority') marker = m;
      else {
        invalid.push({ line: lineNo, reason: `unknown marker ${m}` });
        continue;
      }
    }
    const [hostField, keyType, keyB64, ...rest] = fields;
    if (!hostField || !keyType || !keyB64) {
      invalid.push({ line: lineNo, reason: 'expected "hosts keytype base64-key [comment]"' });
      continue;
    }
    if (!BASE64_RE.test(keyB64)) {
      invalid.push({ line: lineNo, reason: 'key is not base64' });
      continue;
    }
    const key = Buffer.from(keyB64, 'base64');
    const inner = keyTypeOfBlob(key);
    if (inner === undefined) {
      invalid.push({ line: lineNo, reason: 'malformed key blob' });
      continue;
    }
    const entry: KnownHostEntry = { line: lineNo, keyType, key, fingerprint: fingerprintOfKey(key) };
    if (marker) entry.marker = marker;
    if (rest.length) entry.comment = rest.join(' ');
    if (hostField.startsWith('|')) {
      // |1|base64(salt)|base64(hmac-sha1)
      const parts = hostField.split('|');
      if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) {
        invalid.push({ line: lineNo, reason: 'malformed hashed host' });
        continue;
      }
      const salt = Buffer.from(parts[2], 'base64');
      const hash = Buffer.from(parts[3], 'base64');
      if (salt.length !== 20 || hash.length !== 20) {
        invalid.push({ line: lineNo, reason: 'malformed hashed host (salt/hash length)' });
        continue;
      }
      entry.hashed = { salt, hash };
    } else {
      entry.patterns = hostField.split(',').filter((p) => p !== '');
    }
    entries.push(entry);
  }
  return { entries, invalid };
}

/** The name OpenSSH looks up: "host" for port 22, "[host]:port" otherwise; lower-cased. */
export function knownHostsName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH `match_pattern`: `*` any run, `?` any one char; case-insensitive for host names. */
export function wildcardMatch(s: string, pattern: string): boolean {
  const str = s.toLowerCase();
  const pat = pattern.toLowerCase();
  // Iterative glob with backtracking on the last '*'.
  let si = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (si < str.length) {
    const pc = pat[pi];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === str[si])) {
      si++;
      pi++;
    } else if (pc === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pat[pi] === '*') pi++;
  return pi === pat.length;
}

/**
 * Does this entry apply to `name` (already in knownHostsName form)? Follows OpenSSH match_hostname:
 * a matching negated pattern (!pat) excludes the entry; otherwise any positive match includes it.
 */
export function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return mac.length === entry.hashed.hash.length && timingSafeEqual(mac, entry.hashed.hash);
  }
  let positive = false;
  for (const p of entry.patterns ?? []) {
    if (p.startsWith('!')) {
      if (wildcardMatch(name, p.slice(1))) return false;
    } else if (wildcardMatch(name, p)) {
      positive = true;
    }
  }
  return positive;
}

/**
 * Host keys the server at host:port may present: matching entries without a marker.
 * (@cert-authority lines are not used: ssh2 does not support host certificates; @revoked lines are
 * reported by revokedKeysFor / isRevoked.)
 */
export function expectedKeysFor(entries: readonly KnownHostEntry[], host: string, port = 22): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter((e) => e.marker === undefined && entryMatchesName(e, name));
}

/** True when the key appears in any @revoked line (OpenSSH treats revoked keys as revoked for every host). */
export function isRevoked(entries: readonly KnownHostEntry[], key: Buffer): boolean {
  return entries.some((e) => e.marker === '@revoked' && e.key.equals(key));
}

/** Format one known_hosts line (plain). Useful for the lab and tests. */
export function formatKnownHostsLine(hosts: string[], keyType: string, key: Buffer, comment?: string): string {
  return `${hosts.join(',')} ${keyType} ${key.toString('base64')}${comment ? ' ' + comment : ''}`;
}

/** Hash a host name the way `ssh-keygen -H` does (salt random unless given). */
export function hashHostName(name: string, salt: Buffer): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

/**
 * ssh2 `algorithms.serverHostKey` list preferring the key types we have pinned, so the server offers
 * the key we can check (OpenSSH does the same ordering). Returns undefined when nothing is known.
 */
export function hostKeyAlgorithmsFor(keyTypes: Iterable<string>): string[] | undefined {
  const order = [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ];
  const wanted = new Set<string>();
  for (const t of keyTypes) {
    if (t === 'ssh-rsa' || t === 'rsa-sha2-256' || t === 'rsa-sha2-512') {
      wanted.add('rsa-sha2-512').add('rsa-sha2-256').add('ssh-rsa');
    } else wanted.add(t);
  }
  const list = order.filter((a) => wanted.has(a));
  return list.length ? list : undefined;
}
