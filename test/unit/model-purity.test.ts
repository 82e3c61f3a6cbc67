// model/ and render/ are imported by Temporal workflow code: they must be deterministic and free of side
// effects. And what the workflow imports to accept a spec must not pull yaml (nor zod) into its bundle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** .ts files under a directory of the repository, as paths relative to the repository, e.g. "model/rules/hosts.ts". */
function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function source(file: string): string {
  return readFileSync(join(root, file), 'utf8')
    .replace(/\/\/.*$/gm, '')
    .replace(/\/\*[\s\S]*?\*\//g, '');
}

/** Specifiers of import and export ... from statements, side-effect imports and import() calls. */
function importsOf(file: string): string[] {
  const statement =
    /^\s*(?:import|export)\s[^;'"`]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  return [...source(file).matchAll(statement)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** "./cidr.js" imported by "model/plan.ts" -> "model/cidr.ts". */
function resolve(file: string, spec: string): string {
  return normalize(join(dirname(file), spec.replace(/\.js$/, '.ts')));
}

const pureDirs: Record<string, { packages: string[]; dirs: string[] }> = {
  model: { packages: ['zod', 'yaml'], dirs: ['model'] },
  render: { packages: [], dirs: ['render', 'model'] },
};

for (const [dir, allowed] of Object.entries(pureDirs)) {
  describe(`${dir}/ is pure`, () => {
    const files = tsFiles(dir);
    it('has modules', () => assert.ok(files.length > 0));
    for (const f of files) {
      it(`${f} imports only ${[...allowed.packages, ...allowed.dirs.map((d) => `${d}/`)].join(', ')} modules, and uses no clock, randomness or process`, () => {
        for (const spec of importsOf(f)) {
          if (!spec.startsWith('.')) {
            assert.ok(allowed.packages.includes(spec), `${f} imports ${spec}`);
            continue;
          }
          const target = resolve(f, spec);
          assert.ok(
            allowed.dirs.some((d) => !relative(d, target).startsWith('..')),
            `${f} imports ${spec} (${target})`,
          );
        }
        const src = source(f);
        for (const banned of [
          /\bprocess\./,
          /\bDate\.now\b/,
          /\bnew Date\b/,
          /\bMath\.random\b/,
          /\brequire\(/,
          /\bsetTimeout\b/,
          /\bcrypto\b/,
          /\bfetch\(/,
        ]) {
          assert.ok(!banned.test(src), `${f} uses ${banned}`);
        }
      });
    }
  });
}

describe('model/ modules', () => {
  it('has the expected modules', () => {
    const files = tsFiles('model');
    for (const f of [
      'cidr',
      'spec',
      'validate',
      'check',
      'problem-format',
      'spec-change',
      'plan',
      'plan-format',
      'certificates',
      'types',
      'rules/index',
    ]) {
      assert.ok(files.includes(`model/${f}.ts`), f);
    }
  });
});

describe('what the workflow imports to accept a spec', () => {
  /** Every package reached from `file` through relative imports, with the chain that reaches it. */
  function packagesReached(file: string): Map<string, string[]> {
    const reached = new Map<string, string[]>();
    const seen = new Set<string>();
    const walk = (f: string, chain: string[]) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const spec of importsOf(f)) {
        if (spec.startsWith('.')) walk(resolve(f, spec), [...chain, f]);
        else if (!reached.has(spec)) reached.set(spec, [...chain, f]);
      }
    };
    walk(file, []);
    return reached;
  }

  for (const f of ['model/check.ts', 'model/plan.ts', 'model/problem-format.ts', 'model/spec-change.ts']) {
    it(`${f} never reaches yaml, nor zod`, () => {
      const reached = packagesReached(f);
      for (const pkg of ['yaml', 'zod']) {
        assert.ok(!reached.has(pkg), `${f} reaches ${pkg} through ${reached.get(pkg)?.join(' -> ')}`);
      }
    });
  }

  it('the walk sees the parser reach both', () => {
    const reached = packagesReached('model/validate.ts');
    assert.ok(reached.has('yaml') && reached.has('zod'));
  });
});
