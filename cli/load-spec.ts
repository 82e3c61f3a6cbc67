// Reads and validates a cluster file for a command: every problem at once, exit code 2, nothing touched.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseClusterFile } from '../model/validate.js';
import { formatProblems } from '../model/problem-format.js';
import { encodingProblem } from '../model/file-encoding.js';
import type { ValidSpec } from '../model/check.js';
import type { Problem } from '../model/types.js';

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function loadSpec(file: string, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): ValidSpec {
  const bytes = readClusterFile(file);
  const unreadable = encodingProblem(bytes);
  if (unreadable) throw rejected(file, [unreadable]);
  const result = parseClusterFile(bytes.toString('utf8'), file);
  if (!result.ok) throw rejected(file, result.problems);
  if (result.warnings.length) warn(formatProblems(result.warnings, file));
  return result.spec;
}

function rejected(file: string, problems: readonly Problem[]): UsageError {
  const n = problems.filter((p) => p.severity === 'error').length;
  return new UsageError(`${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was changed.\n${formatProblems(problems, file)}`);
}

function readClusterFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(cannotRead(file, err as NodeJS.ErrnoException));
  }
}

/** Node's errno text ("ENOENT: no such file or directory, open ...") as a sentence with a fix. */
function cannotRead(file: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return `no such file: ${file} — check the path (hardway lab up writes ~/.hardway/lab/cluster.yaml)`;
    case 'ENOTDIR':
      return `no such file: ${file} — a part of the path is a file, not a directory; check the path`;
    case 'EISDIR': {
      const inside = join(file, 'cluster.yaml');
      return `${file} is a directory — give the cluster file inside it${existsSync(inside) ? `, e.g. -f ${inside}` : ''}`;
    }
    case 'EACCES':
    case 'EPERM':
      return `cannot read ${file}: permission denied — run hardway as a user who may read it, or make it readable (chmod u+r ${file})`;
    default:
      return `cannot read the cluster file ${file}: ${err.message}`;
  }
}
