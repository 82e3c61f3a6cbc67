// Renders a cluster status for a terminal. Pure.
import Table from 'cli-table3';
import { PHASE_TITLES } from '../workflows/phases.js';
import type { ClusterStatus } from '../workflows/status.js';

export function formatDuration(ms?: number): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function formatStatus(st: ClusterStatus): string {
  const out: string[] = [];
  out.push(`cluster ${st.cluster}: ${st.state}${st.currentPhase ? ` (phase ${st.currentPhase})` : ''}`);
  if (st.error) out.push(`error: ${st.error}`);
  const phases = new Table({ head: ['phase', 'state', 'duration', 'what'], style: { head: [], border: [] } });
  for (const p of st.phases) phases.push([p.name, p.state, formatDuration(p.durationMs), PHASE_TITLES[p.name]]);
  out.push(phases.toString());
  if (st.steps.length) {
    const steps = new Table({
      head: ['phase', 'step', 'host', 'state', 'attempts', 'duration', 'changed / last error'],
      style: { head: [], border: [] },
      colWidths: [null, null, null, null, null, null, 60] as unknown as number[],
      wordWrap: true,
    });
    for (const s of st.steps) {
      const detail = s.state === 'failed' || s.lastError ? (s.lastError ?? '') : (s.changed ?? []).join(', ') || 'no change';
      steps.push([s.phase, s.step, s.host, s.state, String(s.attempts), formatDuration(s.durationMs), detail]);
    }
    out.push(steps.toString());
  }
  if (st.notBuilt.length) out.push(`not built yet in this version: ${st.notBuilt.join(', ')}`);
  return out.join('\n');
}
