// model/ is imported by Temporal workflow code: it must be deterministic and free of side effects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../model/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('model/ is pure', () => {
  it('has the expected modules', () => {
    for (const f of ['cidr.ts', 'spec.ts', 'validate.ts', 'plan.ts', 'plan-format.ts', 'certificates.ts', 'types.ts']) {
      assert.ok(files.includes(f), f);
    }
  });

  for (const f of files) {
    it(`${f} imports only zod, yaml and model/ modules, and uses no clock, randomness or process`, () => {
      const src = readFileSync(dir + f, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      const imports = [...src.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      for (const spec of imports) {
        assert.ok(spec === 'zod' || spec === 'yaml' || /^\.\/[a-z-]+\.js$/.test(spec), `${f} imports ${spec}`);
      }
      for (const banned of [/\bprocess\./, /\bDate\.now\b/, /\bnew Date\b/, /\bMath\.random\b/, /\brequire\(/, /\bsetTimeout\b/, /\bcrypto\b/, /\bfetch\(/]) {
        assert.ok(!banned.test(src), `${f} uses ${banned}`);
      }
    });
  }
});
