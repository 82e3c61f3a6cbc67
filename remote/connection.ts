// One SSH connection (ssh2 Client) to one host, with host-key pinning and error translation.
// The pool (remote/pool.ts) owns these; activities use RemoteHost (remote/exec.ts).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';

import { AuthenticationFailed, ConnectionFailed, HostKeyMismatch, HostKeyUnknown, SshConfigError } from './errors.js';
import {
  expectedKeysFor,
  fingerprintOfKey,
  hostKeyAlgorithmsFor,
  isRevoked,
  keyTypeOfBlob,
  normalizeFingerprint,
  parseKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';

/** How to reach one host. */
export interface SshTarget {
  /** Address (or DNS name) to connect to. */
  host: string;
  /** Human name of the host (plan host name), used in messages and as a known_hosts fallback lookup. */
  name?: string;
  port: number;
  user: string;
  identityFile?: string;
  /** Private key contents (takes precedence over identityFile). Never logged. */
  privateKey?: Buffer;
  passphrase?: string;
  /** ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string;
  knownHostsFile?: string;
  /** Pinned "SHA256:..." fingerprints; any of them is accepted (alternative or addition to known_hosts). */
  fingerprints?: string[];
  /** TCP connect + SSH handshake + auth timeout. Default 15 s. */
  connectTimeoutMs?: number;
}

export interface ConnectionOptions {
  /**
   * SSH keepalive interval, ms (0 disables). Default 3 s: with keepaliveCountMax 3 a host whose link died is noticed
   * within about 10 s, and the command running on it fails with ConnectionFailed (retried), where it used to hang
   * until its own timeout while the step looked healthy.
   */
  keepaliveInterval?: number;
  /** Unanswered keepalives before the connection is declared dead. Default 3. */
  keepaliveCountMax?: number;
  /** Max concurrently open channels (sshd MaxSessions defaults to 10). Default 8. */
  maxChannels?: number;
  /**
   * A session idle for longer than this is not reused: the next command connects again, so the host key is checked
   * again (a host reinstalled, or replaced by another at its address, while the worker kept a session open is caught
   * then, not when that session happens to drop). Default 60 s.
   */
  reverifyAfterIdleMs?: number;
  /** Nor is a session older than this, however busy. Default 15 minutes. */
  maxSessionAgeMs?: number;
}

export const DEFAULT_REVERIFY_AFTER_IDLE_MS = 60_000;
export const DEFAULT_MAX_SESSION_AGE_MS = 15 * 60_000;

export function targetKey(t: Pick<SshTarget, 'host' | 'port' | 'user'>): string {
  return `${t.user}@${t.host}:${t.port}`;
}

export function targetLabel(t: Pick<SshTarget, 'host' | 'port' | 'name'>): string {
  const addr = t.port === 22 ? t.host : `${t.host}:${t.port}`;
  return t.name && t.name !== t.host ? `${t.name} (${addr})` : addr;
}

/** What the host may present, derived from known_hosts and/or pinned fingerprints. */
export interface HostKeyPins {
  fingerprints: Set<string>;
  entries: KnownHostEntry[];
  /** Revocation lines from known_hosts (all hosts). */
  allEntries: KnownHostEntry[];
  /** Human description of where the pins come from, for messages. */
  source: string;
  /** ssh2 serverHostKey algorithm list, when we know the key types. */
  algorithms?: string[];
}

export async function loadHostKeyPins(target: SshTarget): Promise<HostKeyPins> {
  const sources: string[] = [];
  let allEntries: KnownHostEntry[] = [];
  let entries: KnownHostEntry[] = [];
  if (target.knownHostsFile) {
    let text = '';
    try {
      text = await readFile(target.knownHostsFile, 'utf8');
      sources.push(`known_hosts file ${target.knownHostsFile}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        throw new SshConfigError(targetLabel(target), `Cannot read known_hosts file ${target.knownHostsFile}: ${code ?? String(e)}`);
      }
      sources.push(`known_hosts file ${target.knownHostsFile} (missing)`);
    }
    allEntries = parseKnownHosts(text).entries;
    entries = expectedKeysFor(allEntries, target.host, target.port);
    if (entries.length === 0 && target.name && target.name !== target.host) {
      entries = expectedKeysFor(allEntries, target.name, target.port);
    }
  }
  const fingerprints = new Set<string>(entries.map((e) => e.fingerprint));
  const pinned = (target.fingerprints ?? []).filter((f) => f.trim() !== '').map(normalizeFingerprint);
  if (pinned.length) sources.push('the pinned fingerprints (ssh.fingerprints)');
  for (const f of pinned) fingerprints.add(f);
  const pins: HostKeyPins = {
    fingerprints,
    entries,
    allEntries,
    source: sources.length ? sources.join(' and ') : 'no known_hosts file or fingerprints configured',
  };
  // Prefer the key types we can check; only when every pin has a known type (fingerprints do not say).
  if (pinned.length === 0 && entries.length) {
    const algs = hostKeyAlgorithmsFor(entries.map((e) => e.keyType));
    if (algs) pins.algorithms = algs;
  }
  return pins;
}

type Verdict = { kind: 'ok' } | { kind: 'mismatch' | 'unknown' | 'revoked'; presented: string; keyType: string };

/** What the worker brings to every connection: `hardway worker --identity`, an agent socket. */
export interface SshDefaults {
  /** The worker's identity file (`hardway worker --identity`): used when the cluster file names none. */
  identityFile?: string;
  /** ssh-agent socket. Default: $SSH_AUTH_SOCK. */
  agent?: string;
}

/** The identity files tried, in this order, under ~/.ssh when neither the cluster file nor the worker names one. */
export const DEFAULT_IDENTITY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'] as const;

export interface ResolvedSshDefaults {
  /** The private key file to use; when set, the agent is not offered. */
  identityFile?: string;
  agent?: string;
  knownHostsFile: string;
}

/**
 * THE place that decides how a host is reached when the cluster file leaves something unset (activities/
 * ssh-shells.ts builds every target with it; a connection whose target names no credentials falls back to it):
 *
 *   identity:     the worker's --identity (the key is a file on the worker's machine, and a worker may run
 *                 elsewhere than the file was written) -> the cluster file's ssh.identityFile -> the first of
 *                 ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists -> the ssh-agent ($SSH_AUTH_SOCK)
 *   known_hosts:  the cluster file's ssh.knownHostsFile -> ~/.ssh/known_hosts
 *
 * `env` is for tests: the home directory, the agent socket and how to test that a file exists.
 */
export function resolveSshDefaults(
  fromClusterFile: { identityFile?: string; knownHostsFile?: string },
  worker: SshDefaults = {},
  env: { home?: string; agentSocket?: string; exists?: (path: string) => boolean } = {},
): ResolvedSshDefaults {
  const home = env.home ?? homedir();
  const exists = env.exists ?? existsSync;
  const knownHostsFile = fromClusterFile.knownHostsFile ?? join(home, '.ssh', 'known_hosts');
  const identityFile =
    worker.identityFile ?? fromClusterFile.identityFile ?? DEFAULT_IDENTITY_FILES.map((f) => join(home, '.ssh', f)).find((p) => exists(p));
  if (identityFile !== undefined) return { identityFile, knownHostsFile };
  const agent = worker.agent ?? ('agentSocket' in env ? env.agentSocket : process.env.SSH_AUTH_SOCK);
  return agent ? { agent, knownHostsFile } : { knownHostsFile };
}

async function resolveAuth(target: SshTarget): Promise<Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'>> {
  const label = targetLabel(target);
  const out: Pick<ConnectConfig, 'privateKey' | 'passphrase' | 'agent'> = {};
  let { identityFile, agent } = target;
  if (!target.privateKey && !identityFile && !agent) {
    // A target that names no credentials (a caller other than activities/ssh-shells.ts): the same defaults.
    ({ identityFile, agent } = resolveSshDefaults({}));
  }
  if (target.privateKey) out.privateKey = target.privateKey;
  else if (identityFile) {
    try {
      out.privateKey = await readFile(identityFile);
    } catch (e) {
      throw new SshConfigError(
        label,
        `Cannot read SSH identity file ${identityFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}. Fix: ssh.identityFile.`,
      );
    }
  }
  if (target.passphrase !== undefined) out.passphrase = target.passphrase;
  if (agent) out.agent = agent;
  if (!out.privateKey && !out.agent) {
    throw new SshConfigError(
      label,
      `No SSH credentials for ${target.user}@${label}: no identity file, no ~/.ssh/id_* and no agent (SSH_AUTH_SOCK). Fix: set ssh.identityFile.`,
    );
  }
  return out;
}

/** A connected ssh2 client. */
export class SshConnection {
  readonly target: SshTarget;
  readonly label: string;
  readonly client: Client;
  /** Fingerprint of the host key the server presented (and we accepted). */
  readonly hostKeyFingerprint: string;
  private _closed = false;
  private readonly maxChannels: number;
  private openChannels = 0;
  readonly connectedAt = Date.now();
  /** When a channel was last opened or released. */
  private lastUsedAt = Date.now();
  private retiring = false;
  private readonly waiters: (() => void)[] = [];
  private readonly closeListeners = new Set<() => void>();

  private constructor(target: SshTarget, client: Client, fingerprint: string, maxChannels: number) {
    this.target = target;
    this.label = targetLabel(target);
    this.client = client;
    this.hostKeyFingerprint = fingerprint;
    this.maxChannels = maxChannels;
    const onGone = () => {
      if (this._closed) return;
      this._closed = true;
      for (const l of this.closeListeners) l();
      // Wake waiters so they fail fast on the closed connection.
      for (const w of this.waiters.splice(0)) w();
    };
    client.on('close', onGone);
    client.on('end', onGone);
    // Errors after ready (keepalive timeout, socket reset) end in 'close'; swallow here to avoid crashes.
    client.on('error', () => onGone());
  }

  get closed(): boolean {
    return this._closed;
  }

  /** Too idle or too old to be reused (ConnectionOptions.reverifyAfterIdleMs, maxSessionAgeMs). */
  stale(opts: Pick<ConnectionOptions, 'reverifyAfterIdleMs' | 'maxSessionAgeMs'>, now = Date.now()): boolean {
    const idle = this.openChannels === 0 && now - this.lastUsedAt > (opts.reverifyAfterIdleMs ?? DEFAULT_REVERIFY_AFTER_IDLE_MS);
    return idle || now - this.connectedAt > (opts.maxSessionAgeMs ?? DEFAULT_MAX_SESSION_AGE_MS);
  }

  /** Close once the commands running on it have ended (at once when none runs). */
  retireWhenIdle(): void {
    this.retiring = true;
    if (this.openChannels === 0) this.close();
  }

  onClose(listener: () => void): void {
    if (this._closed) listener();
    else this.closeListeners.add(listener);
  }

  /** Open a connection; translates failures into HostKey*, AuthenticationFailed, ConnectionFailed. */
  static async connect(target: SshTarget, opts: ConnectionOptions = {}): Promise<SshConnection> {
    const label = targetLabel(target);
    const pins = await loadHostKeyPins(target);
    const auth = await resolveAuth(target);
    let verdict: Verdict | undefined;
    let accepted = '';
    const hostVerifier = (key: Buffer): boolean => {
      const fp = fingerprintOfKey(key);
      const keyType = keyTypeOfBlob(key) ?? 'unknown';
      if (isRevoked(pins.allEntries, key)) {
        verdict = { kind: 'revoked', presented: fp, keyType };
        return false;
      }
      if (pins.fingerprints.size === 0) {
        verdict = { kind: 'unknown', presented: fp, keyType };
        return false;
      }
      if (!pins.fingerprints.has(fp)) {
        verdict = { kind: 'mismatch', presented: fp, keyType };
        return false;
      }
      verdict = { kind: 'ok' };
      accepted = fp;
      return true;
    };

    const cfg: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: target.connectTimeoutMs ?? 15_000,
      keepaliveInterval: opts.keepaliveInterval ?? 3_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      hostVerifier,
      ...auth,
    };
    if (pins.algorithms) cfg.algorithms = { serverHostKey: pins.algorithms as never };

    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.removeListener('ready', onReady);
        client.on('error', () => undefined); // late errors after failure
        client.end();
        client.destroy();
        reject(err);
      };
      const onReady = () => {
        if (settled) return;
        settled = true;
        // Many small request/response packets: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per command.
        client.setNoDelay(true);
        client.removeListener('error', onError);
        client.removeListener('close', onEarlyClose);
        resolve();
      };
      const onError = (err: Error & { level?: string; code?: string }) => {
        fail(translateConnectError(err, label, target.user, verdict, pins, target));
      };
      const onEarlyClose = () => {
        fail(
          verdict && verdict.kind !== 'ok'
            ? translateConnectError(new Error('closed'), label, target.user, verdict, pins, target)
            : new ConnectionFailed(label, `SSH connection to ${label} closed before it was ready`),
        );
      };
      client.once('ready', onReady);
      client.on('error', onError);
      client.once('close', onEarlyClose);
      try {
        client.connect(cfg);
      } catch (e) {
        // ssh2 throws synchronously for unparsable keys etc.
        fail(new SshConfigError(label, `Invalid SSH configuration for ${label}: ${(e as Error).message}`, { cause: e }));
      }
    });
    return new SshConnection(target, client, accepted, opts.maxChannels ?? 8);
  }

  /** Wait for a free channel slot. Returns a release function (idempotent). */
  async acquireChannel(): Promise<() => void> {
    while (!this._closed && this.openChannels >= this.maxChannels) {
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.openChannels++;
    this.lastUsedAt = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.openChannels--;
      this.lastUsedAt = Date.now();
      this.waiters.shift()?.();
      if (this.retiring && this.openChannels === 0) this.close();
    };
  }

  /** Open an exec channel. Rejects with the raw ssh2 error (callers decide about reconnecting). */
  openExec(command: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(command, (err, stream) => (err ? reject(err) : resolve(stream)));
      } catch (e) {
        reject(e as Error);
      }
    });
  }

  close(): void {
    if (!this._closed) {
      this.client.end();
      // Ensure the socket goes away even if the server does not answer the disconnect.
      setTimeout(() => this.client.destroy(), 1000).unref();
    }
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ECONNABORTED',
]);

export function translateConnectError(
  err: Error & { level?: string; code?: string },
  label: string,
  user: string,
  verdict: Verdict | undefined,
  pins: HostKeyPins,
  target?: Pick<SshTarget, 'host' | 'port'>,
): Error {
  if (verdict && verdict.kind !== 'ok') {
    const expected = [...pins.fingerprints];
    if (verdict.kind === 'unknown') {
      return new HostKeyUnknown(label, { presented: verdict.presented, keyType: verdict.keyType, source: pins.source });
    }
    return new HostKeyMismatch(label, {
      expected,
      presented: verdict.presented,
      keyType: verdict.keyType,
      source: pins.source,
      revoked: verdict.kind === 'revoked',
    });
  }
  if (err.level === 'client-authentication') {
    return new AuthenticationFailed(label, user, err.message, { cause: err });
  }
  // What to do next, for a host that does not answer at all: the step is retried on its own meanwhile.
  const ssh = target ? `ssh ${target.port === 22 ? '' : `-p ${target.port} `}${user}@${target.host}` : `ssh ${user}@<its address>`;
  const next = `. Is the host up, with sshd listening (try: ${ssh})? The step is retried for a while, then waits for: hardway retry CLUSTER`;
  if (err.level === 'client-timeout') {
    return new ConnectionFailed(label, `SSH connection to ${label} timed out (${err.message})${next}`, { cause: err, code: 'ETIMEDOUT' });
  }
  const code = err.code;
  if (code && CONNECTION_CODES.has(code)) {
    return new ConnectionFailed(label, `Cannot reach ${label} over SSH: ${code} (${err.message})${next}`, { cause: err, code });
  }
  if (/encrypted|passphrase|privateKey|Cannot parse/i.test(err.message)) {
    return new SshConfigError(label, `SSH key problem for ${label}: ${err.message}`, { cause: err });
  }
  return new ConnectionFailed(label, `SSH connection to ${label} failed: ${err.message}`, { cause: err, ...(code ? { code } : {}) });
}
