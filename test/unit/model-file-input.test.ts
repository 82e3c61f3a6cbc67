// What hardway says about a cluster file it cannot read as UTF-8 YAML: a missing path, a directory, a
// gzipped or UTF-16 file. Each gets a sentence with a fix, and exit code 2.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodingProblem } from '../../model/file-encoding.js';
import { loadSpec, UsageError } from '../../cli/load-spec.js';

const seedPath = fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url));
const seed = readFileSync(seedPath);
const utf16le = (b: Buffer) => Buffer.from(b.toString('utf8'), 'utf16le');
const utf16be = (b: Buffer) => utf16le(b).swap16();
const bom = (...bytes: number[]) => Buffer.from(bytes);

describe('encodingProblem', () => {
  it('recognises gzip by its magic bytes', () => {
    const p = encodingProblem(gzipSync(seed));
    assert.equal(p?.code, 'gzip-file');
    assert.match(p!.fix!, /gunzip/);
  });

  it('recognises UTF-16, little- and big-endian, with or without a byte order mark', () => {
    for (const [label, bytes] of [
      ['LE with BOM', Buffer.concat([bom(0xff, 0xfe), utf16le(seed)])],
      ['BE with BOM', Buffer.concat([bom(0xfe, 0xff), utf16be(seed)])],
      ['LE without BOM', utf16le(seed)],
      ['BE without BOM', utf16be(seed)],
    ] as const) {
      const p = encodingProblem(bytes);
      assert.equal(p?.code, 'utf16-file', label);
      assert.match(p!.message, /UTF-16/);
      assert.match(p!.fix!, /UTF-8/);
    }
  });

  it('passes UTF-8, with a BOM or other scripts, and calls NUL bytes binary', () => {
    assert.equal(encodingProblem(seed), undefined);
    assert.equal(encodingProblem(Buffer.concat([bom(0xef, 0xbb, 0xbf), seed])), undefined);
    assert.equal(encodingProblem(Buffer.from('name: lab # café, 日本, ключ\n')), undefined);
    assert.equal(encodingProblem(Buffer.alloc(0)), undefined);
    assert.equal(
      encodingProblem(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x41, 0x42]))?.code,
      'binary-file',
    );
  });
});

describe('loadSpec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hardway-load-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const quiet = () => {};
  const usageError = (file: string, re: RegExp) =>
    assert.throws(
      () => loadSpec(file, quiet),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.equal(e.exitCode, 2);
        assert.match(e.message, re);
        assert.doesNotMatch(e.message, /ENOENT|EISDIR/);
        return true;
      },
    );

  it('a missing file: says so, with where the lab writes one', () => {
    const missing = join(dir, 'nope.yaml');
    usageError(
      missing,
      new RegExp(`^no such file: ${missing} — check the path \\(hardway lab up writes ~/\\.hardway/lab/cluster\\.yaml\\)$`),
    );
  });

  it('a directory: asks for the file inside, and names cluster.yaml when it is there', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    usageError(empty, new RegExp(`^${empty} is a directory — give the cluster file inside it$`));
    const lab = join(dir, 'lab');
    mkdirSync(lab);
    writeFileSync(join(lab, 'cluster.yaml'), seed);
    usageError(lab, new RegExp(`-f ${join(lab, 'cluster.yaml')}$`));
  });

  it('a gzipped or UTF-16 file: says what it is instead of a YAML error', () => {
    const gz = join(dir, 'cluster.yaml.gz');
    writeFileSync(gz, gzipSync(seed));
    usageError(gz, /gzip-compressed[\s\S]*fix: decompress it first/);
    const wide = join(dir, 'windows.yaml');
    writeFileSync(wide, Buffer.concat([bom(0xff, 0xfe), utf16le(seed)]));
    usageError(wide, /UTF-16[\s\S]*fix: save it as UTF-8/);
  });

  it('a good file: a checked spec with its parsed networks', () => {
    const spec = loadSpec(seedPath, quiet);
    assert.equal(spec.hosts.length, 10);
    assert.deepEqual(spec.parsed.pods, { network: 0x0af40000, prefix: 16 });
  });
});
