// SshPool: one SSH connection per (user, host, port), reused by every command to that host,
// reconnected on demand after a drop. The worker owns one pool for its lifetime.
import { SshConnection, targetKey, targetLabel, type ConnectionOptions, type SshTarget } from './connection.js';
import { RemoteHost, type CommandDoneEvent, type CommandEvent, type ConnectionProvider } from './exec.js';

export interface PoolOptions extends ConnectionOptions {
  /** Called before every command is sent (the exact command line; never the stdin content). */
  onCommand?: (ev: CommandEvent) => void;
  /** Called when a command has ended (or failed to), with its duration. */
  onCommandDone?: (ev: CommandDoneEvent) => void;
  /** Default per-command timeout, ms (client side only). Default 10 minutes. */
  defaultTimeoutMs?: number;
  /** Also bound commands that have an explicit timeoutMs on the host (coreutils `timeout`). Default true. */
  remoteTimeout?: boolean;
}

export interface HostStats {
  key: string;
  label: string;
  /** Successful SSH connections established (1 + reconnects). */
  connects: number;
  /** Commands issued (channels opened for exec). */
  commands: number;
  connected: boolean;
}

interface Slot {
  target: SshTarget;
  conn?: SshConnection;
  pending?: Promise<SshConnection>;
  connects: number;
  commands: number;
  host?: RemoteHost;
}

export class SshPool implements ConnectionProvider {
  private readonly slots = new Map<string, Slot>();
  private readonly opts: PoolOptions;
  private closing = false;

  constructor(opts: PoolOptions = {}) {
    this.opts = opts;
  }

  private slot(target: SshTarget): Slot {
    const key = targetKey(target);
    let s = this.slots.get(key);
    if (!s) {
      s = { target, connects: 0, commands: 0 };
      this.slots.set(key, s);
    }
    return s;
  }

  /** The RemoteHost for a target (one per user@host:port; the first target config registered wins). */
  host(target: SshTarget): RemoteHost {
    const s = this.slot(target);
    if (!s.host) {
      s.host = new RemoteHost(this, s.target, {
        ...(this.opts.onCommand ? { onCommand: this.opts.onCommand } : {}),
        ...(this.opts.onCommandDone ? { onCommandDone: this.opts.onCommandDone } : {}),
        ...(this.opts.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: this.opts.defaultTimeoutMs } : {}),
        ...(this.opts.remoteTimeout !== undefined ? { remoteTimeout: this.opts.remoteTimeout } : {}),
      });
    }
    return s.host;
  }

  /** A live connection to the target: the cached one, or a new one when there is none or it dropped. */
  async connection(target: SshTarget): Promise<SshConnection> {
    if (this.closing) throw new Error('SshPool is closed');
    const s = this.slot(target);
    if (s.conn && !s.conn.closed) {
      if (!s.conn.stale(this.opts)) return s.conn;
      // Connect again (and so check the host key again); the old session ends when its commands have.
      s.conn.retireWhenIdle();
      s.conn = undefined;
    }
    if (s.pending) return s.pending;
    s.conn = undefined;
    const p = SshConnection.connect(s.target, this.opts).then(
      (conn) => {
        s.pending = undefined;
        if (this.closing) {
          conn.close();
          throw new Error('SshPool is closed');
        }
        s.conn = conn;
        s.connects++;
        conn.onClose(() => {
          if (s.conn === conn) s.conn = undefined;
        });
        return conn;
      },
      (err: unknown) => {
        s.pending = undefined;
        throw err;
      },
    );
    s.pending = p;
    return p;
  }

  /** Drop the cached connection if it is `conn` (e.g. it looked dead); the next command reconnects. */
  discard(conn: SshConnection): void {
    for (const s of this.slots.values()) {
      if (s.conn === conn) s.conn = undefined;
    }
    conn.close();
  }

  countCommand(target: SshTarget): void {
    this.slot(target).commands++;
  }

  stats(): HostStats[] {
    return [...this.slots.entries()].map(([key, s]) => ({
      key,
      label: targetLabel(s.target),
      connects: s.connects,
      commands: s.commands,
      connected: !!s.conn && !s.conn.closed,
    }));
  }

  /** Total commands issued through this pool (all hosts). */
  get totalCommands(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.commands;
    return n;
  }

  /** Close every connection. Waits for pending connects to settle. */
  async close(): Promise<void> {
    this.closing = true;
    const pendings = [...this.slots.values()].map((s) => s.pending).filter((p): p is Promise<SshConnection> => !!p);
    await Promise.allSettled(pendings);
    const closes: Promise<void>[] = [];
    for (const s of this.slots.values()) {
      const c = s.conn;
      s.conn = undefined;
      if (c && !c.closed) {
        closes.push(
          new Promise<void>((r) => {
            c.onClose(r);
            c.close();
            setTimeout(r, 1500).unref();
          }),
        );
      }
    }
    await Promise.all(closes);
  }
}
