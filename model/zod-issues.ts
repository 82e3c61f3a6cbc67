// zod issues of the schema (model/spec.ts) -> Problems with a path, a message and a specific fix.
import type { z } from 'zod';
import type { Problem, RuleId } from './types.js';
import { allowedKeysAt } from './spec.js';
import { didYouMean } from './did-you-mean.js';
import { oneOfError, suggestVersion } from './field-checks.js';
import { formatPath, genericPath, type PathSegment } from './field-path.js';
import { quote } from './excerpt.js';

/** The text of a value as written in the file (the YAML number 1.30 reads as 1.3), when known. */
export type SourceText = (segs: readonly PathSegment[]) => string | undefined;

const REQUIRED_FIX: Record<string, string> = {
  name: 'add a cluster name, e.g. "name: hardway"',
  hosts: 'add a "hosts:" list (see examples/seed-cluster.yaml)',
  'hosts[].name': 'give the host a name, e.g. "name: worker-3"',
  'hosts[].address': 'give the host its infrastructure IPv4 address, e.g. "address: 192.168.56.33"',
  'hosts[].roles': 'list the host\'s roles, e.g. "roles: [worker]" (ca, etcd, loadbalancer, controlplane, worker, admin)',
  'loadBalancer.external.address': "give the external load balancer's IPv4 address",
};

const VERSION_FIELDS = ['versions.kubernetes', 'versions.etcd'];

function problem(segs: readonly PathSegment[], code: RuleId, message: string, fix?: string): Problem {
  const p: Problem = { severity: 'error', path: formatPath(segs), message, code };
  if (fix !== undefined) p.fix = fix;
  return p;
}

export function problemsFromZodIssue(issue: z.core.$ZodIssue, sourceOf: SourceText = () => undefined): Problem[] {
  const segs = issue.path.filter((s): s is PathSegment => typeof s === 'string' || typeof s === 'number');
  const where = formatPath(segs);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(segs) ?? [];
      return issue.keys.map((key) => {
        const guess = didYouMean(key, allowed);
        const at = where ? ` in ${where}` : ' at the top level';
        return problem(
          [...segs, key],
          'unknown-field',
          `unknown field ${quote(key)}${at}${guess ? ` (did you mean "${guess}"?)` : ''}`,
          guess ? `rename ${quote(key)} to "${guess}"` : `remove ${quote(key)}; the fields allowed here are: ${allowed.join(', ')}`,
        );
      });
    }
    case 'invalid_type': {
      const input = issue.input;
      if (input === undefined) {
        return [
          problem(
            segs,
            'required',
            'missing: this field is required',
            REQUIRED_FIX[genericPath(segs)] ?? `add "${String(segs[segs.length - 1])}"`,
          ),
        ];
      }
      return [
        problem(
          segs,
          'wrong-type',
          `expected ${expectedText(issue.expected)}, got ${describeValue(input)}`,
          wrongTypeFix(issue.expected, input, segs, sourceOf),
        ),
      ];
    }
    case 'invalid_value': {
      const e = oneOfError(
        issue.input,
        issue.values.map((v) => String(v)),
      )!;
      return [problem(segs, e.rule, e.message, e.fix)];
    }
    case 'custom': {
      const params = (issue.params ?? {}) as { fix?: string; rule?: RuleId };
      return [problem(segs, params.rule ?? 'invalid-value', issue.message, params.fix)];
    }
    default:
      return [problem(segs, 'invalid-value', issue.message, 'correct this value')];
  }
}

function wrongTypeFix(expected: string, input: unknown, segs: readonly PathSegment[], sourceOf: SourceText): string {
  if ((expected === 'number' || expected === 'int') && typeof input === 'string' && /^\s*-?\d{1,20}(\.\d{1,20})?\s*$/.test(input)) {
    return `remove the quotes: ${input.trim()}`;
  }
  if (expected === 'int' && typeof input === 'number') return `use a whole number such as ${Math.round(input)}`;
  if (expected === 'string' && typeof input === 'number' && VERSION_FIELDS.includes(formatPath(segs))) {
    // kubernetes: 1.32 is a YAML number; quoting it is not enough, the rule wants a full release tag.
    const version = suggestVersion(sourceOf(segs) ?? String(input));
    const field = String(segs[segs.length - 1]);
    if (version) return `write ${field}: "${version}" (a release tag: a "v", the patch number, and quotes so that YAML reads text)`;
  }
  if (expected === 'string' && (typeof input === 'number' || typeof input === 'boolean')) return `quote the value: "${String(input)}"`;
  if (expected === 'array' && genericPath(segs) === 'hosts[].roles' && typeof input === 'string')
    return `write a list: roles: [${quote(input).slice(1, -1)}]`;
  if (expected === 'array') return 'write a list ("- item" lines, or [a, b])';
  if (expected === 'object') return 'write a mapping of fields ("key: value" lines) here';
  return `write ${expectedText(expected)} here`;
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

/** What a value is, for "expected X, got Y". Strings are cut to an excerpt. */
export function describeValue(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `the string ${quote(v)}`;
    case 'number':
      return `the number ${v}`;
    case 'boolean':
      return `${v}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}
