// Every cross-field rule, by group. Each group reads the tolerant view (model/loose-view.ts), so rules
// still run on a file whose other fields have errors, and returns Problems with paths but no positions.
import type { Problem } from '../types.js';
import type { LooseSpec } from '../loose-view.js';
import { hostProblems } from './hosts.js';
import { roleProblems } from './roles.js';
import { networkProblems } from './networks.js';
import { binaryProblems } from './binaries.js';
import { sshProblems } from './ssh.js';

export function crossFieldProblems(view: LooseSpec): Problem[] {
  return [...hostProblems(view), ...roleProblems(view), ...networkProblems(view), ...binaryProblems(view), ...sshProblems(view)];
}
