// What a cluster file's bytes really are, before they are read as UTF-8 YAML: a gzipped file or a UTF-16
// one (Windows editors) otherwise shows up as a puzzling YAML error. Pure: looks at bytes only.
import type { Problem } from './types.js';

/** How many bytes from the start are examined. */
const SAMPLE = 4096;

/** A Problem when the bytes are not a UTF-8 text file, undefined when they may be one. */
export function encodingProblem(bytes: Uint8Array): Problem | undefined {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return {
      severity: 'error',
      path: '',
      message: 'the file is gzip-compressed, not YAML text',
      fix: 'decompress it first (gunzip -c FILE > cluster.yaml) and give hardway the .yaml file',
      code: 'gzip-file',
      line: 1,
      column: 1,
    };
  }
  const utf16 = utf16Kind(bytes);
  if (utf16) {
    return {
      severity: 'error',
      path: '',
      message: `the file is UTF-16 text (${utf16}), as some Windows editors save it; hardway reads UTF-8`,
      fix: 'save it as UTF-8 (Notepad: "Save as", Encoding "UTF-8"; or iconv -f UTF-16 -t UTF-8 FILE > cluster.yaml)',
      code: 'utf16-file',
      line: 1,
      column: 1,
    };
  }
  if (bytes.subarray(0, SAMPLE).includes(0)) {
    return {
      severity: 'error',
      path: '',
      message: 'the file holds NUL bytes: it is a binary file, not YAML text',
      fix: 'give hardway the cluster file itself (YAML text, e.g. examples/seed-cluster.yaml)',
      code: 'binary-file',
      line: 1,
      column: 1,
    };
  }
  return undefined;
}

function utf16Kind(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'little-endian, with a byte order mark';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'big-endian, with a byte order mark';
  // Without a BOM: ASCII text in UTF-16 has a NUL in every other byte.
  const n = Math.min(bytes.length, SAMPLE) & ~1;
  if (n < 2) return undefined;
  let evenNuls = 0;
  let oddNuls = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenNuls++;
    if (bytes[i + 1] === 0) oddNuls++;
  }
  const pairs = n / 2;
  if (oddNuls >= pairs * 0.75 && evenNuls <= pairs * 0.1) return 'little-endian';
  if (evenNuls >= pairs * 0.75 && oddNuls <= pairs * 0.1) return 'big-endian';
  return undefined;
}
