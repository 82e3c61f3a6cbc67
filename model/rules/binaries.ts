// Rules on where binaries and images come from: a mirror source needs the mirror's URL, a local source its
// directory; the other one is ignored (a warning). And the versions hardway knows how to configure.
import type { Problem } from '../types.js';
import type { LooseSpec, SourceView } from '../loose-view.js';
import { quote } from '../excerpt.js';
import { error, warning } from './report.js';

interface SourceSection {
  key: 'binaries' | 'images';
  /** The source that reads neither mirror nor directory. */
  mirrorExample: string;
  directoryWhat: string;
}

const SECTIONS: readonly SourceSection[] = [
  { key: 'binaries', mirrorExample: 'https://mirror.example.com/kubernetes', directoryWhat: 'the binaries' },
  {
    key: 'images',
    mirrorExample: 'https://mirror.example.com/images (with the archives, REFERENCES and SHA256SUMS)',
    directoryWhat: 'the image archives, REFERENCES and SHA256SUMS',
  },
];

function sourceProblems(s: SourceSection, v: SourceView): Problem[] {
  const out: Problem[] = [];
  const src = v.source;
  if (src === 'mirror' && !v.hasMirror) {
    out.push(
      error(
        [s.key, 'mirror'],
        'mirror-required',
        `${s.key}.source is "mirror" but ${s.key}.mirror is not set`,
        `add ${s.key}.mirror: the base URL of your mirror, e.g. ${s.mirrorExample}`,
      ),
    );
  }
  if (src === 'local' && !v.hasDirectory) {
    out.push(
      error(
        [s.key, 'directory'],
        'directory-required',
        `${s.key}.source is "local" but ${s.key}.directory is not set`,
        `add ${s.key}.directory: the directory on this machine that holds ${s.directoryWhat}`,
      ),
    );
  }
  if (src !== undefined && src !== 'mirror' && v.hasMirror) {
    out.push(
      warning(
        [s.key, 'mirror'],
        'unused-field',
        `${s.key}.mirror is ignored because ${s.key}.source is ${quote(src)}`,
        `set ${s.key}.source: mirror, or remove ${s.key}.mirror`,
      ),
    );
  }
  if (src !== undefined && src !== 'local' && v.hasDirectory) {
    out.push(
      warning(
        [s.key, 'directory'],
        'unused-field',
        `${s.key}.directory is ignored because ${s.key}.source is ${quote(src)}`,
        `set ${s.key}.source: local, or remove ${s.key}.directory`,
      ),
    );
  }
  return out;
}

/** containerd releases whose configuration hardway writes (the version 2 config format of containerd 1.6 and 1.7). */
export const SUPPORTED_CONTAINERD = /^v1\.(6|7)\.\d+/;

export function binaryProblems(view: LooseSpec): Problem[] {
  const out = SECTIONS.flatMap((s) => sourceProblems(s, view[s.key]));
  const v = view.containerdVersion;
  if (v !== undefined && /^v\d+\.\d+\.\d+/.test(v) && !SUPPORTED_CONTAINERD.test(v)) {
    out.push(
      error(
        ['versions', 'containerd'],
        'unsupported-version',
        `containerd ${v} is not supported: hardway writes the configuration of containerd 1.6 and 1.7`,
        'use a v1.7.x or v1.6.x release (containerd 2.x, with its version 3 configuration, is not supported yet)',
      ),
    );
  }
  return out;
}
