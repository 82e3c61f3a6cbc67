// Rules on binaries: a mirror source needs the mirror's URL, a local source its directory; the other one
// is ignored (a warning).
import type { Problem } from '../types.js';
import type { LooseSpec } from '../loose-view.js';
import { quote } from '../excerpt.js';
import { error, warning } from './report.js';

export function binaryProblems({ binaries }: LooseSpec): Problem[] {
  const out: Problem[] = [];
  const src = binaries.source;
  if (src === 'mirror' && !binaries.hasMirror) {
    out.push(
      error(
        ['binaries', 'mirror'],
        'mirror-required',
        'binaries.source is "mirror" but binaries.mirror is not set',
        'add binaries.mirror: the base URL of your mirror, e.g. https://mirror.example.com/kubernetes',
      ),
    );
  }
  if (src === 'local' && !binaries.hasDirectory) {
    out.push(
      error(
        ['binaries', 'directory'],
        'directory-required',
        'binaries.source is "local" but binaries.directory is not set',
        'add binaries.directory: the directory on this machine that holds the binaries',
      ),
    );
  }
  if (src !== undefined && src !== 'mirror' && binaries.hasMirror) {
    out.push(
      warning(
        ['binaries', 'mirror'],
        'unused-field',
        `binaries.mirror is ignored because binaries.source is ${quote(src)}`,
        'set binaries.source: mirror, or remove binaries.mirror',
      ),
    );
  }
  if (src !== undefined && src !== 'local' && binaries.hasDirectory) {
    out.push(
      warning(
        ['binaries', 'directory'],
        'unused-field',
        `binaries.directory is ignored because binaries.source is ${quote(src)}`,
        'set binaries.source: local, or remove binaries.directory',
      ),
    );
  }
  return out;
}
