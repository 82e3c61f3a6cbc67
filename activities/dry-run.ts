// Shells for a dry run: every read goes to the real host, every change (change(), a putFile that would write) is
// recorded instead of made. Activities built on them (createActivities(dryRunShells(real))) run their real code
// and report what they WOULD change, and the hosts stay as they are.
//
// A read of something a recorded change would have made first (a file written above, or a command that declares
// it reads one, see ExecOptions.reads) cannot be judged: it throws DependsOnChanges instead of answering from the
// old state.
import { DependsOnChanges } from './errors.js';
import type { ChangeOptions, ExecOptions, FileAction, FileOptions, HostShell, HostShells } from './host-shell.js';
import type { HostTarget } from './types.js';

export interface DryRunAction {
  /** The host the change would be made on. */
  host: string;
  /** What would change: "write /etc/hosts (update)", "owner and mode of /x", "systemctl restart etcd", ... */
  what: string;
}

export interface DryRunShells extends HostShells {
  /** Every change recorded so far, oldest first. */
  readonly recorded: readonly DryRunAction[];
  /** The changes recorded since the last take(), oldest first. */
  take(): DryRunAction[];
}

const FILE_ACTION: Record<Exclude<FileAction, 'unchanged'>, string> = {
  created: 'create',
  updated: 'update',
  metadata: 'owner and mode of',
};

function oneLine(cmd: string): string {
  const first = cmd.split('\n')[0]!.trim();
  const short = first.length > 160 ? `${first.slice(0, 160)}…` : first;
  return short === cmd.trim() ? short : `${short} …`;
}

export function dryRunShells(real: HostShells): DryRunShells {
  const recorded: DryRunAction[] = [];
  let taken = 0;
  /** host -> paths whose content a recorded change writes. */
  const written = new Map<string, Set<string>>();
  const writtenOn = (host: string) => {
    let s = written.get(host);
    if (!s) written.set(host, (s = new Set()));
    return s;
  };

  function shell(target: HostTarget): HostShell {
    const host = target.name;
    const sh = real.shell(target);
    const record = (what: string) => recorded.push({ host, what });
    const mustNotRead = (paths: readonly string[], by: string) => {
      const hit = paths.find((p) => writtenOn(host).has(p));
      if (hit !== undefined) throw new DependsOnChanges(`${by} reads ${host}:${hit}, which a change above writes`);
    };
    return {
      name: sh.name,
      exec: (cmd: string, opts: ExecOptions = {}) => {
        const first = cmd.trim().split(/\s+/)[0]!;
        // A command is named by its program; a shell construct (a loop over files) by the step.
        mustNotRead(opts.reads ?? [], /^(for|if|while|set|echo|\[)$/.test(first) ? 'the step' : first);
        return sh.exec(cmd, opts);
      },
      change: async (cmd: string, opts: ChangeOptions = {}) => {
        record(opts.summary ?? oneLine(cmd));
        for (const p of opts.writes ?? []) writtenOn(host).add(p);
      },
      readFile: (path: string) => {
        mustNotRead([path], 'the step');
        return sh.readFile(path);
      },
      checkFile: (path: string, content: string | Buffer, opts: FileOptions) => {
        mustNotRead([path], 'the step');
        return sh.checkFile(path, content, opts);
      },
      putFile: async (path: string, content: string | Buffer, opts: FileOptions) => {
        const action: FileAction = writtenOn(host).has(path) ? 'updated' : await sh.checkFile(path, content, opts);
        if (action === 'unchanged') return { changed: false };
        record(
          `${FILE_ACTION[action]} ${path}${action === 'metadata' ? ` (${opts.owner ?? 'root'}:${opts.group ?? 'root'} ${opts.mode})` : ` (${opts.mode})`}`,
        );
        if (action !== 'metadata') writtenOn(host).add(path);
        return { changed: true };
      },
    };
  }

  return {
    shell,
    get recorded() {
      return recorded;
    },
    take() {
      const out = recorded.slice(taken);
      taken = recorded.length;
      return out;
    },
  };
}
