// kubectl on a control plane, for the steps that keep objects in the cluster: server-side apply that changes
// nothing when the cluster already holds what hardway wants (kubectl diff first), reads, and polls.
import { KUBERNETES_BIN_DIR } from '../model/paths.js';
import { FIELD_MANAGER } from '../render/cluster-objects.js';
import { shellQuote as q } from '../remote/exec.js';
import { NotReady } from './errors.js';
import type { HostShell } from './host-shell.js';
import type { StepContext } from './step.js';

export const KUBECTL = `${KUBERNETES_BIN_DIR}/kubectl`;

/** What a kubectl command depends on (a dry run cannot judge it when an earlier change writes one of them). */
export const kubectlReads = (kubeconfig: string): string[] => [KUBECTL, kubeconfig];

export const kubectl = (kubeconfig: string, args: string): string =>
  `${KUBECTL} --kubeconfig=${q(kubeconfig)} --request-timeout=20s ${args}`;

/** The objects `kubectl diff` finds different ("<kind> <namespace>/<name>" from its file names). */
export function parseDiffObjects(out: string): string[] {
  const names = new Set<string>();
  for (const m of out.matchAll(/^diff -u -N \S+\/(\S+) \S+$/gm)) {
    // "<group>.<version>.<Kind>.<namespace>.<name>": the kind is the first capitalised part.
    const parts = m[1]!.split('.');
    const k = parts.findIndex((p) => /^[A-Z]/.test(p));
    names.add(k >= 0 ? `${parts[k]} ${[parts[k + 1], parts.slice(k + 2).join('.')].filter(Boolean).join('/')}` : m[1]!);
  }
  return [...names];
}

const APPLY_FLAGS = `--server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f -`;

/** What `kubectl diff --server-side` finds different between `list` and the cluster ([] when it cannot name them), or
 * undefined when the cluster holds every object as `list` has it. */
export async function objectsDiffer(sh: HostShell, kubeconfig: string, list: string): Promise<string[] | undefined> {
  const diff = await sh.exec(kubectl(kubeconfig, `diff ${APPLY_FLAGS}`), {
    input: list,
    allowExitCodes: [0, 1],
    timeoutMs: 60_000,
    reads: kubectlReads(kubeconfig),
  });
  return diff.code === 0 ? undefined : parseDiffObjects(diff.stdout);
}

/**
 * Server-side apply of `list` (a v1 List) with hardway's field manager, only when `kubectl diff --server-side` finds
 * a difference: a re-run against a cluster that holds the objects changes nothing and reports nothing.
 */
export async function applyObjects(
  sh: HostShell,
  kubeconfig: string,
  list: string,
  ctx: Pick<StepContext, 'changed'>,
  /** What objectsDiffer found just before, when the caller asked already. */
  known?: string[],
): Promise<string[]> {
  const differing = known ?? (await objectsDiffer(sh, kubeconfig, list));
  if (!differing) return [];
  await sh.change(kubectl(kubeconfig, `apply ${APPLY_FLAGS}`), {
    input: list,
    timeoutMs: 60_000,
    summary: `server-side apply ${differing.join(', ') || 'objects'}`,
  });
  const what = differing.length ? differing.map((d) => `applied ${d}`) : ['applied objects'];
  ctx.changed(...what);
  return what;
}

/** Polls `probe` until it returns a value, with a progress note; NotReady (retried by Temporal) when time runs out. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ctx: Pick<StepContext, 'progress'>,
  opts: { timeoutMs: number; everyMs?: number; lastSeen?: () => string },
): Promise<T> {
  const until = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until)
      throw new NotReady(`${what}: not yet after ${Math.round(opts.timeoutMs / 1000)} s${opts.lastSeen ? ` (${opts.lastSeen()})` : ''}`);
    ctx.progress(`waiting: ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 1000));
  }
}

/**
 * `/readyz` of an API server as seen from `sh`, with the cluster CA (anonymous: RBAC lets anyone read it). `reads`: what
 * the answer depends on that this step may have just written (the unit it started), for dry runs.
 */
export async function apiReady(sh: HostShell, url: string, caPath: string, reads: string[] = []): Promise<{ ok: boolean; detail: string }> {
  const r = await sh.exec(`curl -sS --max-time 5 --cacert ${q(caPath)} ${q(`${url.replace(/\/+$/, '')}/readyz`)}`, {
    allowExitCodes: [0, 6, 7, 22, 28, 35, 52, 56, 60, 77],
    reads: [caPath, ...reads],
  });
  const body = r.stdout.trim();
  return { ok: r.code === 0 && body === 'ok', detail: body || r.stderr.trim() || `curl exit ${r.code}` };
}
