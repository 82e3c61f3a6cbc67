// Test helpers for lab hosts: SSH (ssh2) with host keys pinned from a known_hosts file.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';

export interface KnownHost {
  names: string[];
  type: string;
  /** base64 key blob, as in the file */
  key: string;
}

export function readKnownHosts(path: string): KnownHost[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [names = '', type = '', key = ''] = l.trim().split(/\s+/);
      return { names: names.split(','), type, key };
    });
}

/** "SHA256:..." (OpenSSH style, unpadded base64) of a raw public key blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint known_hosts records for `name` (an address or a host name). */
export function knownFingerprint(known: KnownHost[], name: string): string {
  const e = known.find((k) => k.names.includes(name));
  if (!e) throw new Error(`known_hosts has no entry for ${name}`);
  return fingerprint(Buffer.from(e.key, 'base64'));
}

export interface SshTarget {
  address: string;
  privateKey: Buffer | string;
  /** The fingerprint the host key must have; anything else is refused. */
  expectFingerprint: string;
  username?: string;
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Fingerprint of the key the server presented. */
  presented: string;
}

/** One SSH session: connect (verifying the host key), run one command, close. */
export function sshRun(t: SshTarget, command: string, input?: string): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const conn = new Client();
    let presented = '';
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      conn.end();
      reject(e);
    };
    conn.on('error', fail);
    conn.on('ready', () => {
      conn.exec(command, (err, stream) => {
        if (err) return fail(err);
        let stdout = '';
        let stderr = '';
        stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        stream.on('close', (code: number | null) => {
          settled = true;
          conn.end();
          resolve({ code: code ?? -1, stdout, stderr, presented });
        });
        stream.end(input ?? '');
      });
    });
    conn.connect({
      host: t.address,
      port: 22,
      username: t.username ?? 'root',
      privateKey: t.privateKey,
      readyTimeout: 10_000,
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        presented = fingerprint(key);
        return presented === t.expectFingerprint;
      },
    });
  });
}

/** Field 22 of /proc/<pid>/stat (the process's start time), as the lab's lock records its holder. */
export function processStartTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}
