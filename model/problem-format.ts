// Problems as the text `hardway plan` prints (and the cluster workflow rejects a spec with). Pure.
import type { Problem } from './types.js';

/** At most this many problems are listed; the rest are counted. A file of junk must not flood the terminal. */
export const MAX_PROBLEMS_SHOWN = 50;

/**
 * Human-readable report, one problem per line:
 *   cluster.yaml:12:5 error: hosts[3].address: "192.168.56.300" is not an IPv4 address ... — fix: ...
 * then "... and N more" when there are more than MAX_PROBLEMS_SHOWN, then a summary line of all of them.
 */
export function formatProblems(problems: readonly Problem[], fileName = 'cluster.yaml'): string {
  const lines = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => formatProblem(p, fileName));
  if (problems.length > MAX_PROBLEMS_SHOWN)
    lines.push(`... and ${problems.length - MAX_PROBLEMS_SHOWN} more (fix the ones above first: many may be follow-ups)`);
  const errors = problems.filter((p) => p.severity === 'error').length;
  lines.push(`${plural(errors, 'error')}, ${plural(problems.length - errors, 'warning')}`);
  return lines.join('\n');
}

function formatProblem(p: Problem, fileName: string): string {
  const where = p.line !== undefined ? `${fileName}:${p.line}:${p.column ?? 1}` : fileName;
  const severity = p.severity === 'warning' ? ' warning:' : ' error:';
  const path = p.path ? ` ${p.path}:` : '';
  const fix = p.fix ? ` — fix: ${p.fix}` : '';
  return `${where}${severity}${path} ${p.message}${fix}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
