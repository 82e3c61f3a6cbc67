// RemoteHost: run commands on one host over the pooled SSH connection.
import type { ClientChannel } from 'ssh2';

import type { SshConnection, SshTarget } from './connection.js';
import { targetLabel } from './connection.js';
import { CommandFailed, CommandTimeout, ConnectionFailed, RemoteError } from './errors.js';

/** POSIX shell single-quoting: safe for any string (including newlines and quotes). */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_\-+=.,/:@%^]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, `'\\''`) + "'";
}

/** Quote each word and join with spaces: shellJoin(['ls', '-l', 'a b']) -> "ls -l 'a b'". */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

export interface ExecOptions {
  /** Run as root via `sudo -n sh -c` when the SSH user is not root. Default true. */
  sudo?: boolean;
  /** Kill the command after this long (ms). Default: the pool's default (10 min). */
  timeoutMs?: number;
  /** Sent on the command's stdin, then EOF. Never logged. */
  input?: string | Buffer;
  /** Exit codes that are not failures (0 is always allowed). */
  allowExitCodes?: number[];
  /** stdout may hold secrets (e.g. reading a key): keep it out of CommandFailed/CommandTimeout. */
  sensitiveOutput?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecBufferResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** What the onCommand hook sees: the command line as sent (content goes over stdin and is not included). */
export interface CommandEvent {
  host: string;
  user: string;
  /** The command as given by the caller. */
  command: string;
  /** The command line actually sent over SSH (after sudo wrapping). */
  sent: string;
  sudo: boolean;
  /** Bytes sent on stdin (the content itself is never exposed). */
  inputBytes: number;
}

/** What RemoteHost needs from the pool. */
export interface ConnectionProvider {
  connection(target: SshTarget): Promise<SshConnection>;
  discard(conn: SshConnection): void;
  countCommand(target: SshTarget): void;
}

/** What the onCommandDone hook sees: the command, how long it took, and its exit code (absent when it did not end). */
export interface CommandDoneEvent extends CommandEvent {
  durationMs: number;
  exitCode?: number;
}

export interface RemoteHostOptions {
  onCommand?: (ev: CommandEvent) => void;
  /** Called when a command has ended, or failed to (benchmarks trace where time goes with it). */
  onCommandDone?: (ev: CommandDoneEvent) => void;
  defaultTimeoutMs?: number;
  /** Bound commands with an explicit timeoutMs on the host with coreutils `timeout`. Default true. */
  remoteTimeout?: boolean;
}

/** An exec channel the server refused for now ("open failed"): the connection is fine, a moment later it takes one. */
function isChannelRefused(err: unknown): boolean {
  return err instanceof Error && /Channel open failure/i.test(err.message);
}

/** Errors from opening a channel that mean "this connection is gone": safe to reconnect and retry once. */
function isConnectionGone(err: unknown, conn: SshConnection): boolean {
  if (conn.closed) return true;
  const msg = err instanceof Error ? err.message : String(err);
  return /Not connected|No response from server/i.test(msg);
}

export class RemoteHost {
  readonly target: SshTarget;
  readonly label: string;
  private readonly provider: ConnectionProvider;
  private readonly opts: RemoteHostOptions;
  private _commands = 0;

  constructor(provider: ConnectionProvider, target: SshTarget, opts: RemoteHostOptions = {}) {
    this.provider = provider;
    this.target = target;
    this.label = targetLabel(target);
    this.opts = opts;
  }

  /** Commands issued to this host so far (benchmarks and tests read this). */
  get commandCount(): number {
    return this._commands;
  }

  get isRoot(): boolean {
    return this.target.user === 'root';
  }

  /**
   * The command line that will be sent for `cmd`. Non-root users get `sudo -n sh -c '<cmd>'`.
   * With `timeoutMs`, the command is also bounded on the host (`timeout -k 5 <t+1s> sh -c ...`): sshd
   * ignores "signal" channel requests for root logins (no privilege separation after auth), so
   * closing the channel alone would leave the process running.
   */
  wrap(cmd: string, sudo = true, timeoutMs?: number): string {
    const elevate = sudo && !this.isRoot;
    if (timeoutMs !== undefined && this.opts.remoteTimeout !== false) {
      const secs = (Math.ceil(timeoutMs / 100) / 10 + 1).toFixed(1);
      return `${elevate ? 'sudo -n ' : ''}timeout -k 5 ${secs} sh -c ${shellQuote(cmd)}`;
    }
    return elevate ? `sudo -n sh -c ${shellQuote(cmd)}` : cmd;
  }

  /** Run a command; stdout decoded as UTF-8. Non-zero exit (not allowed) throws CommandFailed. */
  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.execBuffer(cmd, opts);
    return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
  }

  /** Like exec, but stdout is returned as raw bytes (for reading binary files). */
  async execBuffer(cmd: string, opts: ExecOptions = {}): Promise<ExecBufferResult> {
    const sudo = opts.sudo ?? true;
    const input = opts.input === undefined ? undefined : Buffer.isBuffer(opts.input) ? opts.input : Buffer.from(opts.input, 'utf8');
    const timeoutMs = opts.timeoutMs ?? this.opts.defaultTimeoutMs ?? 600_000;
    // Only explicit per-command timeouts are enforced on the host too; the default is a safety net.
    const sent = this.wrap(cmd, sudo, opts.timeoutMs);

    let conn = await this.provider.connection(this.target);
    let release = await conn.acquireChannel();
    let channel: ClientChannel;
    this.count();
    const ev: CommandEvent = { host: this.label, user: this.target.user, command: cmd, sent, sudo, inputBytes: input?.length ?? 0 };
    this.opts.onCommand?.(ev);
    try {
      channel = await conn.openExec(sent);
    } catch (first) {
      let err = first;
      // The server refused a channel for now (its MaxSessions still counts sessions that are closing): a moment later
      // it takes one. Seen with ten steps at once opening channels to one control plane.
      for (let wait = 50; isChannelRefused(err) && wait <= 800; wait *= 2) {
        release();
        await new Promise((r) => setTimeout(r, wait));
        release = await conn.acquireChannel();
        try {
          channel = await conn.openExec(sent);
          err = undefined;
          break;
        } catch (again) {
          err = again;
        }
      }
      if (err === undefined) return this.finishRun(channel!, cmd, input, timeoutMs, opts, release, ev);
      release();
      if (!isConnectionGone(err, conn)) {
        throw new ConnectionFailed(this.label, `Cannot open an SSH channel on ${this.label}: ${(err as Error).message}`, { cause: err });
      }
      // The connection dropped since the last command: reconnect once and retry.
      this.provider.discard(conn);
      conn = await this.provider.connection(this.target);
      release = await conn.acquireChannel();
      try {
        channel = await conn.openExec(sent);
      } catch (err2) {
        release();
        if (err2 instanceof RemoteError) throw err2;
        throw new ConnectionFailed(
          this.label,
          `Cannot open an SSH channel on ${this.label} after reconnecting: ${(err2 as Error).message}`,
          {
            cause: err2,
          },
        );
      }
    }
    return this.finishRun(channel, cmd, input, timeoutMs, opts, release, ev);
  }

  /** Runs the command on its open channel; reports it to onCommandDone when it has ended. */
  private finishRun(
    channel: ClientChannel,
    cmd: string,
    input: Buffer | undefined,
    timeoutMs: number,
    opts: ExecOptions,
    release: () => void,
    ev: CommandEvent,
  ): Promise<ExecBufferResult> {
    const result = this.run(channel, cmd, input, timeoutMs, opts.allowExitCodes ?? [], release, opts.sensitiveOutput ?? false);
    const done = this.opts.onCommandDone;
    if (done) {
      const started = Date.now();
      result.then(
        (r) => done({ ...ev, durationMs: Date.now() - started, exitCode: r.code }),
        (e: unknown) => {
          const code = (e as { exitCode?: unknown }).exitCode;
          done({ ...ev, durationMs: Date.now() - started, ...(typeof code === 'number' ? { exitCode: code } : {}) });
        },
      );
    }
    return result;
  }

  private count(): void {
    this._commands++;
    this.provider.countCommand(this.target);
  }

  private run(
    channel: ClientChannel,
    cmd: string,
    input: Buffer | undefined,
    timeoutMs: number,
    allow: number[],
    release: () => void,
    sensitive: boolean,
  ): Promise<ExecBufferResult> {
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let exitCode: number | undefined;
      let exitSignal: string | undefined;
      let settled = false;
      const stdout = () => Buffer.concat(out);
      const stderr = () => Buffer.concat(err).toString('utf8');
      const stdoutForError = () => (sensitive ? '(withheld: sensitive output)' : stdout().toString('utf8'));

      const finish = (e: Error | undefined, r?: ExecBufferResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(r!);
      };
      const timer = setTimeout(() => {
        finish(new CommandTimeout(this.label, { command: cmd, timeoutMs, stderr: stderr(), stdout: stdoutForError() }));
        try {
          channel.signal('KILL');
        } catch {
          /* ignore */
        }
        try {
          channel.close();
        } catch {
          /* ignore */
        }
      }, timeoutMs);

      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => err.push(d));
      channel.on('exit', (code: number | null, signal?: string) => {
        if (typeof code === 'number') exitCode = code;
        if (signal) exitSignal = signal;
      });
      channel.on('error', (e: Error) => {
        release();
        finish(new ConnectionFailed(this.label, `SSH channel error on ${this.label}: ${e.message}`, { cause: e }));
      });
      channel.on('close', (code?: number | null, signal?: string) => {
        release();
        if (exitCode === undefined && typeof code === 'number') exitCode = code;
        if (exitSignal === undefined && signal) exitSignal = signal;
        if (exitCode === undefined && exitSignal === undefined) {
          finish(
            new ConnectionFailed(this.label, `SSH connection to ${this.label} was lost while running a command`, {
              code: 'ECONNRESET',
            }),
          );
          return;
        }
        const codeNum = exitCode ?? -1;
        if (exitSignal !== undefined || (codeNum !== 0 && !allow.includes(codeNum))) {
          finish(
            new CommandFailed(this.label, {
              command: cmd,
              exitCode: codeNum,
              ...(exitSignal !== undefined ? { signal: exitSignal } : {}),
              stderr: stderr(),
              stdout: stdoutForError(),
            }),
          );
          return;
        }
        finish(undefined, { code: codeNum, stdout: stdout(), stderr: stderr() });
      });

      if (input && input.length) channel.end(input);
      else channel.end();
    });
  }
}
