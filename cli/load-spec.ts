// Reads and validates a cluster file for a command: every problem at once, exit code 2, nothing touched.
import { readFileSync } from 'node:fs';
import { formatProblems, parseClusterFile } from '../model/validate.js';
import type { ClusterSpec } from '../model/types.js';

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function loadSpec(file: string, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): ClusterSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the cluster file ${file}: ${(err as Error).message}`);
  }
  const result = parseClusterFile(text, file);
  if (!result.ok) {
    const n = result.problems.filter((p) => p.severity === 'error').length;
    throw new UsageError(`${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was changed.\n${formatProblems(result.problems, file)}`);
  }
  if (result.warnings.length) warn(formatProblems(result.warnings, file));
  return result.spec;
}
