// A short, deterministic digest of a JSON value: tells whether a step's input is the one it already ran with.
// Pure (two 32-bit FNV-1a hashes of the JSON text); not a security boundary.
export function digestOf(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
