// Renders a cluster status for a terminal, in the style of kubectl and k0sctl: plain aligned columns, one summary
// line per phase, and below it only the steps that need a look (running, retrying, failed). `wide` lists every
// step with what it changed; `host` lists every step of one host. Pure.
import type { ClusterStatus, PhaseStatus, StepStatus } from '../workflows/status.js';

export function formatDuration(ms?: number): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export interface StatusView {
  /** Every step, with what it changed (kubectl's -o wide). */
  wide?: boolean;
  /** Every step of this host, with what it changed. */
  host?: string;
}

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function columns(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** "10 hosts: 8 done, 1 running, 1 failed; 3 changed something" for a phase's steps. */
function phaseSummary(steps: readonly StepStatus[]): string {
  if (!steps.length) return '';
  const hosts = new Set(steps.map((s) => s.host)).size;
  const by = (state: StepStatus['state']) => steps.filter((s) => s.state === state).length;
  const counts = (['done', 'running', 'failed', 'pending'] as const).filter((x) => by(x) > 0).map((x) => `${by(x)} ${x}`);
  const changed = steps.filter((s) => (s.changed ?? []).length > 0).length;
  const retried = steps.filter((s) => s.attempts > 1).length;
  return (
    `${hosts} host${hosts === 1 ? '' : 's'}, ${steps.length} step${steps.length === 1 ? '' : 's'}: ${counts.join(', ')}` +
    (changed ? `; ${changed} changed something` : '') +
    (retried ? `; ${retried} retried` : '')
  );
}

function stepDetail(s: StepStatus, withChanges: boolean): string {
  if (s.state === 'failed' || s.lastError) return s.lastError ?? '';
  if (s.reused) return 'done earlier, not run again';
  if (!withChanges) return '';
  return (s.changed ?? []).join(', ') || (s.state === 'done' ? 'no change' : '');
}

const stepRows = (steps: readonly StepStatus[], withChanges: boolean) =>
  steps.map((s) => [s.name, s.state, String(s.attempts), formatDuration(s.durationMs), stepDetail(s, withChanges)]);

const STEP_HEAD = ['STEP', 'STATE', 'ATTEMPTS', 'DURATION', 'CHANGED / LAST ERROR'];

export function formatStatus(st: ClusterStatus, view: StatusView = {}): string {
  const out: string[] = [];
  const gen = st.convergingGeneration ?? st.generation;
  out.push(
    `cluster ${st.cluster}: ${st.state}${st.currentPhase && st.state === 'converging' ? ` (phase ${st.currentPhase})` : ''}, generation ${gen}`,
  );
  if (st.removing?.length) out.push(`removing: ${st.removing.join(', ')} (drain, delete the Node, clean the host)`);
  if (st.reset && st.state !== 'reset') out.push(`resetting every host${st.reset.includeCa ? ', the CA too' : ' (the CA kept)'}`);
  if (st.state === 'reset') out.push(`every host is reset; the workflow has ended: hardway up -f FILE starts the cluster again`);
  for (const b of st.blocked ?? []) out.push(`blocked at ${b.step}: ${b.error}`);
  if (st.blocked?.length) out.push(`fix the cause, then: hardway retry ${st.cluster}   (or apply a corrected file: hardway up -f FILE)`);

  if (view.host !== undefined) {
    const mine = st.steps.filter((s) => s.host === view.host);
    out.push('');
    out.push(mine.length ? columns(STEP_HEAD, stepRows(mine, true)) : `no step of the current or last converge ran on ${view.host}`);
  } else {
    if (st.phases.length) {
      out.push('');
      out.push(
        columns(
          ['PHASE', 'STATE', 'DURATION', 'STEPS'],
          st.phases.map((p: PhaseStatus) => [
            p.name,
            p.state,
            formatDuration(p.durationMs),
            phaseSummary(st.steps.filter((s) => s.phase === p.name)) || p.title,
          ]),
        ),
      );
    }
    const shown = view.wide ? st.steps : st.steps.filter((s) => s.state === 'running' || s.state === 'failed' || s.attempts > 1);
    if (shown.length) {
      out.push('');
      out.push(columns(STEP_HEAD, stepRows(shown, !!view.wide)));
    }
    if (!view.wide && st.steps.length > shown.length) {
      out.push('', `every step with what it changed: hardway status ${st.cluster} -o wide   (one host: --host NAME)`);
    }
  }
  const last = st.changes[st.changes.length - 1];
  if (last) out.push('', `last request (generation ${last.generation}, ${last.via}${last.by ? ` from ${last.by}` : ''}): ${last.summary}`);
  if (st.notBuilt.length) out.push(`not built yet in this version: ${st.notBuilt.join(', ')}`);
  return out.join('\n');
}
