// The YAML layer of a cluster file: syntax errors and warnings as Problems, and the line and column of a
// field path, so that every problem points into the file.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { Problem } from './types.js';
import { parsePath, type PathSegment } from './field-path.js';
import { excerpt } from './excerpt.js';

export interface YamlFile {
  doc: Document;
  /** Syntax errors (the file cannot be read further when there is one) and warnings. */
  errors: Problem[];
  warnings: Problem[];
  /** Line and column of the node at a field path (or of its closest existing ancestor). */
  positionOf(path: string, atKey?: boolean): { line?: number; column?: number };
  /** The text of a scalar as written, e.g. "1.30" for a value that reads as the number 1.3. */
  sourceOf(segs: readonly PathSegment[]): string | undefined;
}

export function readYaml(source: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): { line?: number; column?: number } => {
    if (offset === undefined) return {};
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  // Errors may start at the indentation: point at the first character that is not a space.
  const skipIndent = (offset: number) => {
    while (offset < source.length && (source[offset] === ' ' || source[offset] === '\t')) offset++;
    return offset;
  };
  return {
    doc,
    errors: doc.errors.map((e) => ({
      severity: 'error',
      path: '',
      message: `YAML syntax error: ${excerpt(e.message)}`,
      fix: yamlFix(e.code),
      code: 'yaml-syntax',
      ...at(skipIndent(e.pos[0])),
    })),
    warnings: doc.warnings.map((w) => ({
      severity: 'warning',
      path: '',
      message: excerpt(w.message),
      fix: 'check this YAML construct',
      code: 'yaml-warning',
      ...at(skipIndent(w.pos[0])),
    })),
    positionOf: (path, atKey = false) => at(locate(doc, parsePath(path), atKey)),
    sourceOf: (segs) => {
      const node = doc.getIn(segs, true);
      return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
    },
  };
}

function yamlFix(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'remove or rename one of the duplicate keys';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'check indentation and punctuation here: nested fields are indented with spaces, and "key: value" needs a space after the colon';
    case 'MULTIPLE_DOCS':
      return 'keep a single YAML document in the file (remove the extra "---")';
    default:
      return 'correct the YAML syntax at this position';
  }
}

/** Source offset of the node at `segs` (or of its closest existing ancestor). */
function locate(doc: Document, segs: readonly PathSegment[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = rangeStart(node);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? String(it.key.value) : String(it.key)) === String(seg));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key);
      if (last && atKey) return keyStart ?? offset;
      const v = pair.value;
      // Point at scalar values; for nested collections and empty values, point at the key.
      if (isScalar(v) && v.value !== null && rangeStart(v) !== undefined) offset = rangeStart(v);
      else offset = keyStart ?? offset;
      node = v;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined || item === null) return offset;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? r[0] : undefined;
}
