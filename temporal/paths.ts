// Where hardway keeps its state and finds the Temporal CLI. I/O-free path logic plus a binary lookup.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** ~/.hardway: the operator's state (dev server database, lab). */
export function stateDir(): string {
  return process.env.HARDWAY_HOME ?? join(homedir(), '.hardway');
}

/** The download/build cache that scripts/setup.sh fills (outside the repo). */
export function cacheDir(): string {
  return process.env.HARDWAY_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hardway');
}

/** The Temporal CLI: $HARDWAY_TEMPORAL_BIN, the one setup.sh installed, or `temporal` on PATH. */
export function temporalBinary(): string {
  const candidates = [process.env.HARDWAY_TEMPORAL_BIN, join(cacheDir(), 'temporal')];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'temporal'));
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error(
    'The Temporal CLI was not found. Run scripts/setup.sh (installs the pinned temporal-bin into the cache), ' +
      'or set HARDWAY_TEMPORAL_BIN to a `temporal` executable.',
  );
}
