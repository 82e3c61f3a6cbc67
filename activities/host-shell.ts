// What an activity needs from a host: run a command, put a file, read a file. The worker backs this with the
// SSH pool (remote/); tests of pure logic never need it. Kept narrow so activities stay easy to read.
import type { ClusterPlan } from '../model/types.js';
import type { ExecResult } from '../remote/exec.js';


export interface HostShell {
  readonly name: string;
  exec(cmd: string, opts?: { timeoutMs?: number; input?: string | Buffer; allowExitCodes?: number[] }): Promise<ExecResult>;
  /** Atomic write (temp file, then rename) with owner and mode; no write when the content already matches. */
  putFile(path: string, content: string | Buffer, opts: { mode: string; owner?: string; group?: string }): Promise<{ changed: boolean }>;
  /** The file's bytes, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
}

export interface HostShells {
  shell(plan: ClusterPlan, host: string): HostShell;
}
