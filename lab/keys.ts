// SSH keys: one client key pair for the whole lab, one ed25519 host key per host, and known_hosts.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runOk } from './exec.js';
import { exists } from './hostfs.js';

/** Generates an ed25519 key pair at `path` (+ .pub) unless both exist; written under a temp name first. */
export async function ensureKeyPair(path: string, comment: string): Promise<boolean> {
  if ((await exists(path)) && (await exists(`${path}.pub`))) return false;
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  await rm(`${tmp}.pub`, { force: true });
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', tmp]);
  await chmod(tmp, 0o600);
  await rename(`${tmp}.pub`, `${path}.pub`);
  await rename(tmp, path);
  return true;
}

/** "ssh-ed25519 AAAA..." without the comment. */
export async function publicKey(pubFile: string): Promise<string> {
  const [type, data] = (await readFile(pubFile, 'utf8')).trim().split(/\s+/);
  if (!type || !data) throw new Error(`${pubFile}: not an OpenSSH public key`);
  return `${type} ${data}`;
}

/** Writes `content` (atomically) only if it differs; returns whether it changed. */
export async function writeIfChanged(path: string, content: string, mode: number): Promise<boolean> {
  try {
    if ((await readFile(path, 'utf8')) === content) {
      await chmod(path, mode);
      return false;
    }
  } catch {
    /* absent */
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
  return true;
}

/** known_hosts lines: every host by address and by name (port 22: no brackets). */
export function knownHostsText(entries: { name: string; address: string; key: string }[]): string {
  return entries.map((e) => `${e.address},${e.name} ${e.key}\n`).join('');
}
