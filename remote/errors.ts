// Errors raised by the SSH layer. Each class sets `name` explicitly: when an activity throws one of
// these, Temporal records `name` as the failure type, so retry policies can list the non-retryable
// ones (NON_RETRYABLE_ERROR_TYPES) and the UI shows something readable.
//
// Messages never contain file contents or key material. Command lines are included: by design
// (remote/files.ts) content always travels over stdin, never in a command line.

/** Set `name` on the prototype so it is right even in the stack header captured by Error(). */
function setName(cls: { prototype: Error }, name: string): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

/** Base class: every error of the SSH layer. `retryable` mirrors NON_RETRYABLE_ERROR_TYPES. */
export abstract class RemoteError extends Error {
  abstract readonly retryable: boolean;
  /** Host label (name or address:port) the error is about. */
  readonly host: string;
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.host = host;
  }
}

/** The server presented a host key that differs from the pinned one(s). Possible MITM or a reinstalled host. */
export class HostKeyMismatch extends RemoteError {
  static {
    setName(this, 'HostKeyMismatch');
  }
  readonly retryable = false;
  readonly expected: string[];
  readonly presented: string;
  readonly keyType: string;
  constructor(
    host: string,
    details: { expected: string[]; presented: string; keyType: string; source: string; revoked?: boolean },
  ) {
    const exp = details.expected.length ? details.expected.join(', ') : '(none)';
    super(
      host,
      details.revoked
        ? `Host key for ${host} is REVOKED in ${details.source}: presented ${details.keyType} key ${details.presented}. ` +
            `Refusing to connect. Fix: give the host a new host key and record its fingerprint in ${details.source}.`
        : `Host key mismatch for ${host}: expected ${exp} (from ${details.source}), ` +
            `but the server presented ${details.keyType} key ${details.presented}. ` +
            `Refusing to connect: this may be a man-in-the-middle, or the host was reinstalled. ` +
            `Fix: verify the new key out of band (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host), ` +
            `then update ${details.source} (e.g. ssh-keygen -R '${host.replace(/'/g, '')}' and re-add the key).`,
    );
    this.expected = details.expected;
    this.presented = details.presented;
    this.keyType = details.keyType;
  }
}

/** No pinned key for this host at all (not in known_hosts, no fingerprint recorded). */
export class HostKeyUnknown extends RemoteError {
  static {
    setName(this, 'HostKeyUnknown');
  }
  readonly retryable = false;
  readonly presented: string | undefined;
  constructor(host: string, details: { presented?: string; keyType?: string; source: string }) {
    const pres = details.presented ? ` The server presented ${details.keyType ?? ''} key ${details.presented}.` : '';
    super(
      host,
      `Host key for ${host} is unknown: no entry in ${details.source}.${pres} ` +
        `Fix: add the host's key to the known_hosts file (ssh-keyscan, verified out of band) ` +
        `or record its SHA256 fingerprint under ssh.fingerprints in the cluster file.`,
    );
    this.presented = details.presented;
  }
}

/** The server rejected every authentication method we offered. */
export class AuthenticationFailed extends RemoteError {
  static {
    setName(this, 'AuthenticationFailed');
  }
  readonly retryable = false;
  readonly user: string;
  constructor(host: string, user: string, detail: string, options?: { cause?: unknown }) {
    super(
      host,
      `SSH authentication as ${user}@${host} failed: ${detail}. ` +
        `Fix: check ssh.user, ssh.identityFile (or the agent) and the host's authorized_keys.`,
      options,
    );
    this.user = user;
  }
}

/** Local configuration problem (identity file unreadable, known_hosts unreadable, no auth method...). */
export class SshConfigError extends RemoteError {
  static {
    setName(this, 'SshConfigError');
  }
  readonly retryable = false;
}

/** TCP/SSH transport could not be established or was lost: refused, unreachable, reset, handshake timeout. */
export class ConnectionFailed extends RemoteError {
  static {
    setName(this, 'ConnectionFailed');
  }
  readonly retryable = true;
  readonly code: string | undefined;
  constructor(host: string, message: string, options?: { cause?: unknown; code?: string }) {
    super(host, message, options);
    this.code = options?.code;
  }
}

export const TAIL_BYTES = 2048;

/** Last `max` bytes of a string (UTF-8), prefixed with an ellipsis marker when cut. */
export function tail(s: string, max = TAIL_BYTES): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  // Cutting mid-character yields U+FFFD at the start at worst; acceptable for diagnostics.
  return '…' + b.subarray(b.length - max).toString('utf8');
}

function shortCommand(cmd: string, max = 300): string {
  return cmd.length <= max ? cmd : cmd.slice(0, max) + '…';
}

/** The command ran and exited with a code not in allowExitCodes (or was killed by a signal). */
export class CommandFailed extends RemoteError {
  static {
    setName(this, 'CommandFailed');
  }
  readonly retryable = true;
  readonly command: string;
  /** Exit code; -1 when the process died from a signal (see `signal`). */
  readonly exitCode: number;
  readonly signal: string | undefined;
  readonly stderrTail: string;
  readonly stdoutTail: string;
  constructor(
    host: string,
    details: { command: string; exitCode: number; signal?: string; stderr: string; stdout: string },
  ) {
    const stderrTail = tail(details.stderr);
    const stdoutTail = tail(details.stdout);
    const how = details.signal ? `was killed by signal ${details.signal}` : `exited with code ${details.exitCode}`;
    const err = stderrTail.trim() ? `: ${stderrTail.trim()}` : '';
    super(host, `Command on ${host} ${how}${err}\n  command: ${shortCommand(details.command)}`);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = stderrTail;
    this.stdoutTail = stdoutTail;
  }
}

/** The command did not finish within its timeout; its channel was killed. */
export class CommandTimeout extends RemoteError {
  static {
    setName(this, 'CommandTimeout');
  }
  readonly retryable = true;
  readonly command: string;
  readonly timeoutMs: number;
  readonly stderrTail: string;
  readonly stdoutTail: string;
  constructor(host: string, details: { command: string; timeoutMs: number; stderr: string; stdout: string }) {
    super(host, `Command on ${host} timed out after ${details.timeoutMs} ms\n  command: ${shortCommand(details.command)}`);
    this.command = details.command;
    this.timeoutMs = details.timeoutMs;
    this.stderrTail = tail(details.stderr);
    this.stdoutTail = tail(details.stdout);
  }
}

/** Failure types a Temporal retry policy should not retry (use as `nonRetryableErrorTypes`). */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = Object.freeze([
  'HostKeyMismatch',
  'HostKeyUnknown',
  'AuthenticationFailed',
  'SshConfigError',
]);

export function isRetryable(err: unknown): boolean {
  if (err instanceof RemoteError) return err.retryable;
  if (err instanceof Error) return !NON_RETRYABLE_ERROR_TYPES.includes(err.name);
  return true;
}
