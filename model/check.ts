// checkSpec: a typed ClusterSpec -> a ValidSpec, or every problem. The one place a ValidSpec is made.
// Free of yaml and zod: the cluster workflow calls it inside Temporal's deterministic sandbox.
import type { ClusterSpec, Problem } from './types.js';
import type { Cidr } from './cidr.js';
import { fieldProblems } from './spec-fields.js';
import { looseView, type LooseSpec } from './loose-view.js';
import { crossFieldProblems } from './rules/index.js';
import { excerpt } from './excerpt.js';
import { withLaterFields } from './spec-upgrade.js';

/** The spec's ranges, parsed once. Plain numbers (model/cidr.ts). */
export interface ParsedNetworks {
  pods: Cidr;
  services: Cidr;
  infrastructure?: Cidr;
}

declare const validSpecBrand: unique symbol;

/**
 * A ClusterSpec that passed every rule, with its networks parsed and its warnings. Only checkSpec (and
 * parseClusterFile, through it) makes one.
 *
 * `parsed` and `warnings` are non-enumerable: the spec's JSON, YAML and digest stay exactly what the user
 * wrote, so a ValidSpec can go wherever a ClusterSpec goes (the lab writes it back as cluster.yaml, `up`
 * sends it to the workflow, which checks it again). A copy ({...spec}, JSON) is a plain ClusterSpec again.
 */
export type ValidSpec = Omit<ClusterSpec, 'networks'> & {
  /** Read-only: `parsed` mirrors it. */
  readonly networks: Readonly<ClusterSpec['networks']>;
  readonly parsed: Readonly<ParsedNetworks>;
  readonly warnings: readonly Problem[];
  readonly [validSpecBrand]: true;
};

export type CheckResult = { ok: true; spec: ValidSpec; warnings: Problem[] } | { ok: false; problems: Problem[] };

/**
 * Every single-field and cross-field rule on a typed spec: errors and warnings, with paths but no line
 * numbers. Never throws, whatever the input.
 */
export function checkSpec(given: ClusterSpec): CheckResult {
  const spec = withLaterFields(given);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    return {
      ok: false,
      problems: [
        {
          severity: 'error',
          path: '',
          message: 'the cluster spec is not a mapping of fields (name, hosts, networks, ...)',
          fix: 'send the spec that parseClusterFile returned',
          code: 'not-a-mapping',
        },
      ],
    };
  }
  try {
    const view = looseView(spec);
    const problems = [...fieldProblems(spec), ...crossFieldProblems(view)];
    if (problems.some((p) => p.severity === 'error')) return { ok: false, problems };
    const parsed = parsedNetworks(spec, view);
    if (!parsed) return { ok: false, problems: [internalProblem('the networks passed every rule but do not parse')] };
    const valid = JSON.parse(JSON.stringify(spec)) as ClusterSpec;
    Object.defineProperties(valid, {
      parsed: { value: Object.freeze(parsed), enumerable: false },
      warnings: { value: Object.freeze(problems.map((p) => ({ ...p }))), enumerable: false },
    });
    return { ok: true, spec: valid as ValidSpec, warnings: problems };
  } catch (e) {
    return { ok: false, problems: [internalProblem(e instanceof Error ? e.message : String(e))] };
  }
}

/** The ranges the rules have just parsed (model/loose-view.ts), once every rule passed. */
function parsedNetworks(spec: ClusterSpec, view: LooseSpec): ParsedNetworks | undefined {
  const { pods, services, infrastructure } = view;
  if (!pods || !services) return undefined;
  if (spec.networks.infrastructure === undefined) return { pods, services };
  return infrastructure ? { pods, services, infrastructure } : undefined;
}

function internalProblem(what: string): Problem {
  return {
    severity: 'error',
    path: '',
    message: `internal error while validating: ${excerpt(what)}`,
    fix: 'report this as a bug in hardway, with the cluster file',
    code: 'internal',
  };
}
