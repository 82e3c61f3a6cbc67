// Renders a cluster status for a terminal. Pure.
import Table from 'cli-table3';
import type { ClusterStatus } from '../workflows/status.js';

export function formatDuration(ms?: number): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function formatStatus(st: ClusterStatus): string {
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
  if (st.phases.length) {
    const phases = new Table({ head: ['phase', 'state', 'duration', 'what'], style: { head: [], border: [] } });
    for (const p of st.phases) phases.push([p.name, p.state, formatDuration(p.durationMs), p.title]);
    out.push(phases.toString());
  }
  if (st.steps.length) {
    const steps = new Table({
      head: ['step', 'state', 'attempts', 'duration', 'changed / last error'],
      style: { head: [], border: [] },
      colWidths: [null, null, null, null, 60] as unknown as number[],
      wordWrap: true,
    });
    for (const s of st.steps) {
      const detail =
        s.state === 'failed' || s.lastError
          ? (s.lastError ?? '')
          : s.reused
            ? 'done earlier, not run again'
            : (s.changed ?? []).join(', ') || 'no change';
      steps.push([s.name, s.state, String(s.attempts), formatDuration(s.durationMs), detail]);
    }
    out.push(steps.toString());
  }
  const last = st.changes[st.changes.length - 1];
  if (last) out.push(`last request (generation ${last.generation}, ${last.via}): ${last.summary}`);
  if (st.notBuilt.length) out.push(`not built yet in this version: ${st.notBuilt.join(', ')}`);
  return out.join('\n');
}
