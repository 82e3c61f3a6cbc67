// What an activity needs from a host. The worker backs it with the SSH pool (activities/ssh-shells.ts), a dry run
// with a recorder around the real hosts (activities/dry-run.ts), tests with memory hosts (test/helpers/).
//
// The seam: a command that only READS the host goes through exec(); everything that CHANGES it goes through
// change() or putFile(). A dry run runs the reads for real and records the changes instead of making them, so an
// activity must never change a host through exec() (the memory host refuses it).
import type { ExecResult } from '../remote/exec.js';
import { putFileAction, type RemoteFileState } from '../remote/files.js';
import type { HostTarget } from './types.js';

export type { ExecResult } from '../remote/exec.js';

export interface ExecOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  /** Exit codes that are not failures (0 always is). */
  allowExitCodes?: number[];
  /**
   * Files this command reads that a change earlier in the same run may have written (e.g. `haproxy -c` of a
   * candidate config). A dry run that recorded a write of one of them cannot judge the command and stops the
   * step with DependsOnChanges instead of running it against the old state.
   */
  reads?: string[];
}

export interface ChangeOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  allowExitCodes?: number[];
  /** One line saying what the command changes ("install etcd v3.6.16"), for dry runs; default: the command. */
  summary?: string;
  /** Files whose content the command writes: a dry run then treats a later read of them as depending on it. */
  writes?: string[];
}

export interface FileOptions {
  mode: string;
  owner?: string;
  group?: string;
}

/** What putFile did or would do: nothing, fix owner/mode only, or write the content. */
export type FileAction = 'unchanged' | 'metadata' | 'created' | 'updated';

export interface HostShell {
  readonly name: string;
  /** A command that only reads the host. Non-zero exit (not allowed) throws CommandFailed. */
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /** A command that changes the host (a restart, an install, a move). Its output is not returned: never parse it. */
  change(cmd: string, opts?: ChangeOptions): Promise<void>;
  /** Atomic write (temp file, then rename) with owner and mode; no write when content, owner and mode match. */
  putFile(path: string, content: string | Buffer, opts: FileOptions): Promise<{ changed: boolean }>;
  /** What putFile(path, content, opts) would do, without doing it. */
  checkFile(path: string, content: string | Buffer, opts: FileOptions): Promise<FileAction>;
  /** The file's bytes, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
}

export interface HostShells {
  shell(target: HostTarget): HostShell;
}

/** What putFile has to do for a file in state `st`: remote/files.ts decides, the same way it does when it writes. */
export function fileAction(st: RemoteFileState, content: string | Buffer, opts: FileOptions): FileAction {
  return putFileAction(st, content, opts);
}
