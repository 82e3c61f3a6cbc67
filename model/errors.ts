// Every failure hardway raises on purpose, and the one place where retryability is decided: by the error's class.
// Each class declares its Temporal failure type (its `name`) and whether a retry can help, once, in a static block
// (failureType below, private to this module: a failure type is declared here or nowhere). Pure: the workflow
// imports this module for its retry policy (NON_RETRYABLE_TYPES) and its status.
//
//  - activities/step.ts turns a thrown HardwayError into an ApplicationFailure of type `name`, non-retryable when
//    `retryable` is false. Anything else thrown (a plain Error, a TypeError) is unexpected, and retryable.
//  - NON_RETRYABLE_TYPES is derived from the classes below, not written by hand.
//  - remote/errors.ts and activities/errors.ts re-export the classes of their layer; subclasses elsewhere inherit
//    the failure type of the class they extend.
//
// Messages never contain file contents or key material. Command lines are included: by design (remote/files.ts)
// content always travels over stdin, never in a command line.

/** Every error of remote/, activities/, render/ and pki/ is one of these. */
export abstract class HardwayError extends Error {
  /** Can a retry (with backoff) fix this? Decided per class (failureType), never per instance. */
  declare readonly retryable: boolean;
}

// An error class that declares nothing (an abstract base) is "HardwayError", retryable.
Object.defineProperty(HardwayError.prototype, 'name', { value: 'HardwayError', writable: true, configurable: true, enumerable: false });
Object.defineProperty(HardwayError.prototype, 'retryable', { value: true, writable: false, configurable: true, enumerable: false });

/** Any class that extends HardwayError. */
export type HardwayErrorClass = abstract new (...args: never[]) => HardwayError;

const declared: HardwayErrorClass[] = [];

/**
 * Gives an error class its failure type (its `name`: the Temporal failure type, shown in the UI and the status)
 * and its retryability. Both go on the prototype, so the class itself can be asked, and `name` is right even in
 * the stack header Error() captures.
 */
function failureType(cls: HardwayErrorClass, name: string, o: { retryable: boolean }): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(cls.prototype, 'retryable', { value: o.retryable, writable: false, configurable: true, enumerable: false });
  declared.push(cls);
}

/** Retryable unless a HardwayError says otherwise: an unknown error may be transient. */
export function isRetryable(err: unknown): boolean {
  return err instanceof HardwayError ? err.retryable : true;
}

// ---- configuration and steps ------------------------------------------------------------------------------------

/**
 * The cluster file, a step's input (the plan) or the host does not match what the step needs, and retrying
 * cannot help: the message says what the operator must change.
 */
export class ConfigurationError extends HardwayError {
  static {
    failureType(this, 'ConfigurationError', { retryable: false });
  }
}

/** A preflight check failed on a host (too little memory, a missing command, an unsupported OS). */
export class PreflightFailed extends HardwayError {
  static {
    failureType(this, 'PreflightFailed', { retryable: false });
  }
}

/** Something is not ready yet (a service starting, a quorum forming, a file an earlier step writes): retry with backoff. */
export class NotReady extends HardwayError {
  static {
    failureType(this, 'NotReady', { retryable: true });
  }
}

/**
 * Dry run only (activities/dry-run.ts): the step reads something that a change recorded before would have made
 * first, so it cannot be judged without making that change. Never raised in a real run.
 */
export class DependsOnChanges extends HardwayError {
  static {
    failureType(this, 'DependsOnChanges', { retryable: true });
  }
}

// ---- the SSH layer (remote/) ------------------------------------------------------------------------------------

/** Base class: every error of the SSH layer (abstract: it declares no failure type of its own). */
export abstract class RemoteError extends HardwayError {
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
    failureType(this, 'HostKeyMismatch', { retryable: false });
  }
  readonly expected: string[];
  readonly presented: string;
  readonly keyType: string;
  constructor(host: string, details: { expected: string[]; presented: string; keyType: string; source: string; revoked?: boolean }) {
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
    failureType(this, 'HostKeyUnknown', { retryable: false });
  }
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
    failureType(this, 'AuthenticationFailed', { retryable: false });
  }
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
    failureType(this, 'SshConfigError', { retryable: false });
  }
}

/** TCP/SSH transport could not be established or was lost: refused, unreachable, reset, handshake timeout. */
export class ConnectionFailed extends RemoteError {
  static {
    failureType(this, 'ConnectionFailed', { retryable: true });
  }
  readonly code: string | undefined;
  constructor(host: string, message: string, options?: { cause?: unknown; code?: string }) {
    super(host, message, options);
    this.code = options?.code;
  }
}

export const TAIL_BYTES = 2048;

/** Last `max` bytes of a string (UTF-8), prefixed with an ellipsis marker when cut. */
export function tail(s: string, max = TAIL_BYTES): string {
  const b = new TextEncoder().encode(s);
  if (b.length <= max) return s;
  // Cutting mid-character yields U+FFFD at the start at worst; acceptable for diagnostics.
  return '…' + new TextDecoder().decode(b.subarray(b.length - max));
}

function shortCommand(cmd: string, max = 300): string {
  return cmd.length <= max ? cmd : cmd.slice(0, max) + '…';
}

/** The command ran and exited with a code not in allowExitCodes (or was killed by a signal). */
export class CommandFailed extends RemoteError {
  static {
    failureType(this, 'CommandFailed', { retryable: true });
  }
  readonly command: string;
  /** Exit code; -1 when the process died from a signal (see `signal`). */
  readonly exitCode: number;
  readonly signal: string | undefined;
  readonly stderrTail: string;
  readonly stdoutTail: string;
  constructor(host: string, details: { command: string; exitCode: number; signal?: string; stderr: string; stdout: string }) {
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
    failureType(this, 'CommandTimeout', { retryable: true });
  }
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

// ---- derived ----------------------------------------------------------------------------------------------------

/** Every class that declares a failure type, in declaration order. */
export const ERROR_CLASSES: readonly HardwayErrorClass[] = Object.freeze([...declared]);

/** Failure types a retry cannot fix: the workflow's `nonRetryableErrorTypes`. Derived from the classes above. */
export const NON_RETRYABLE_TYPES: string[] = ERROR_CLASSES.filter((c) => !c.prototype.retryable).map((c) => c.prototype.name);
