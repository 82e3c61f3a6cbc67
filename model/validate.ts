// parseClusterFile: the text of cluster.yaml -> a ValidSpec, or every problem at once (YAML syntax, schema,
// cross-field rules), each with its field path, a fix and the line and column in the file. Never throws.
import type { Problem } from './types.js';
import { ClusterFileSchema } from './spec.js';
import { readYaml, type YamlFile } from './yaml-positions.js';
import { describeValue, problemsFromZodIssue } from './zod-issues.js';
import { looseView } from './loose-view.js';
import { crossFieldProblems } from './rules/index.js';
import { checkSpec, type CheckResult } from './check.js';
import { excerpt } from './excerpt.js';

export type ParseResult = CheckResult;

/** `fileName` is only used in messages of internal failures. */
export function parseClusterFile(text: string, fileName = 'cluster.yaml'): ParseResult {
  try {
    return parse(typeof text === 'string' ? text : String(text));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: `internal error while validating ${fileName}: ${excerpt(why)}`,
          fix: 'report this as a bug in hardway, with the cluster file',
          code: 'internal',
        },
      ],
    };
  }
}

function parse(source: string): ParseResult {
  const yaml = readYaml(source);
  if (yaml.errors.length > 0) return { ok: false, problems: sortProblems([...yaml.errors, ...yaml.warnings]) };

  let data: unknown;
  try {
    data = yaml.doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: `YAML could not be read: ${excerpt(why)}`,
          fix: 'simplify the YAML (avoid deeply nested aliases)',
          code: 'yaml-syntax',
        },
      ],
    };
  }
  if (data === null || data === undefined) {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: 'the cluster file is empty',
          fix: 'describe the cluster: start from examples/seed-cluster.yaml',
          code: 'empty-file',
          line: 1,
          column: 1,
        },
      ],
    };
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    const problem: Problem = {
      severity: 'error',
      path: '',
      message: `the cluster file must be a mapping of fields (name:, hosts:, networks: ...), not ${describeValue(data)}`,
      fix: 'start from examples/seed-cluster.yaml',
      code: 'not-a-mapping',
      ...yaml.positionOf(''),
    };
    return { ok: false, problems: [problem] };
  }

  data = dropEmptySections(data as Record<string, unknown>);
  const schema = ClusterFileSchema.safeParse(data, { reportInput: true });
  if (!schema.success) {
    // Cross-field rules still run (on what can be read), so that every problem shows at once.
    const problems = [
      ...schema.error.issues.flatMap((i) => problemsFromZodIssue(i, yaml.sourceOf)),
      ...crossFieldProblems(looseView(data)),
    ];
    return { ok: false, problems: located(yaml, problems) };
  }
  const checked = checkSpec(schema.data);
  if (!checked.ok) return { ok: false, problems: located(yaml, checked.problems) };
  return { ok: true, spec: checked.spec, warnings: located(yaml, checked.warnings) };
}

/** Problems with their line and column, with the YAML warnings, in file order. */
function located(yaml: YamlFile, problems: readonly Problem[]): Problem[] {
  const withPositions = problems.map((p) => ({ ...p, ...yaml.positionOf(p.path, p.code === 'unknown-field') }));
  return sortProblems([...withPositions, ...yaml.warnings]);
}

/**
 * An optional section written with nothing under it ("networks:" followed only by comments) is null in
 * YAML: treat it as absent, so its defaults apply. Returns a shallow copy; the input is not modified.
 */
function dropEmptySections(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const key of ['networks', 'loadBalancer', 'versions', 'binaries', 'ssh', 'preflight']) {
    if (out[key] === null) delete out[key];
  }
  if (Array.isArray(out['hosts'])) {
    out['hosts'] = out['hosts'].map((h: unknown) => {
      if (h !== null && typeof h === 'object' && !Array.isArray(h) && (h as Record<string, unknown>)['ssh'] === null) {
        const copy = { ...(h as Record<string, unknown>) };
        delete copy['ssh'];
        return copy;
      }
      return h;
    });
  }
  return out;
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const la = a.p.line ?? Infinity;
      const lb = b.p.line ?? Infinity;
      if (la !== lb) return la - lb;
      const ca = a.p.column ?? 0;
      const cb = b.p.column ?? 0;
      return ca !== cb ? ca - cb : a.i - b.i;
    })
    .map((x) => x.p);
}
