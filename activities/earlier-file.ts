// Before hardway first replaces a file that another owner put where hardway writes whole (haproxy's package
// configuration, an operator's ~/.kube/config with their other clusters in it), it keeps a copy beside it,
// <path>.before-hardway, with the same owner and mode; a reset (activities/reset.ts) puts that copy back. Only the
// first replacement makes a copy: the copy is what was there before hardway, not hardway's previous version.
import { BEFORE_HARDWAY_SUFFIX } from '../model/paths.js';
import { shellQuote as q } from '../remote/exec.js';
import type { HostShell } from './host-shell.js';
import type { StepContext } from './step.js';

/** Keeps the earlier file at `path` when there is one, it is not hardway's (`header` begins hardway's), and none was kept yet. */
export async function keepEarlierFile(
  sh: HostShell,
  path: string,
  header: string,
  ctx: Pick<StepContext, 'changed'>,
  /** The file's content when the caller has read it already (null: there is none). */
  known?: Buffer | string | null,
): Promise<void> {
  const current = known === undefined ? await sh.readFile(path) : known;
  if (current == null || (current.toString().split('\n')[0] ?? '').startsWith(header)) return;
  const copy = `${path}${BEFORE_HARDWAY_SUFFIX}`;
  if ((await sh.exec(`[ -e ${q(copy)} ] || [ -L ${q(copy)} ]`, { allowExitCodes: [0, 1] })).code === 0) return;
  await sh.change(`cp -p ${q(path)} ${q(copy)}`, { summary: `keep the earlier ${path} as ${copy}` });
  ctx.changed(`kept the earlier ${path} as ${copy}`);
}
