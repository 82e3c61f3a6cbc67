// What an activity needs from a host. The worker backs it with the SSH pool (activities/ssh-shells.ts), a dry run
// with a recorder around the real hosts (activities/dry-run.ts), tests with memory hosts (test/helpers/).
//
// The seam: a command that only READS the host goes through exec(); everything that CHANGES it goes through
// change() or putFile(). A dry run runs the reads for real and records the changes instead of making them, so an
// activity must never change a host through exec() (the memory host refuses it).
import { shellQuote, type ExecResult } from '../remote/exec.js';
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

/**
 * Several text files that are not secret (certificates, configs) in one round trip: path -> content, absent when the
 * file is not there. Never for keys: the content is in the command's output.
 */
export async function readTexts(sh: HostShell, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(paths)];
  if (unique.length === 0) return out;
  const quoted = unique.map(shellQuote).join(' ');
  const { stdout } = await sh.exec(`for p in ${quoted}; do if [ -f "$p" ]; then echo "${TEXT_MARK} $p"; cat -- "$p"; echo; fi; done`, {
    reads: unique,
  });
  for (const part of stdout.split(`${TEXT_MARK} `).slice(1)) {
    const nl = part.indexOf('\n');
    // cat's output, then the newline echo added (a file that ends without one gets it back as it was).
    out.set(part.slice(0, nl), part.slice(nl + 1, -1));
  }
  return out;
}

/** What readTexts prints before each file: a line no certificate or config of hardway's begins with. */
export const TEXT_MARK = '@@hardway-file';
