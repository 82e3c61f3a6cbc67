// The keys of the payload codec: a keyring of AES-256 keys with ids, read from a key file or an environment variable.
// The format is one `id:base64key` per line (or entries separated by commas in the variable); `#` starts a comment.
// The first key is the current one, which encrypts; every key decrypts, so that payloads written before a rotation
// still read. Keys never appear in messages: only their ids and where they came from.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';

export const KEY_BYTES = 32;
export const KEY_FILE_VARIABLE = 'HARDWAY_CODEC_KEY_FILE';
export const KEY_VARIABLE = 'HARDWAY_CODEC_KEY';

const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const MAKE_ONE = 'make one with `hardway codec-key FILE` (docs/encryption.md)';

/** A key file or key variable that cannot be used: the message names it and says what to do. */
export class CodecKeyError extends Error {
  override name = 'CodecKeyError';
}

/** Where the keys come from: a file, or the text of an environment variable. */
export type KeySource = { file: string } | { variable: string; text: string };

export const describeSource = (s: KeySource): string => ('file' in s ? `the key file ${s.file}` : `the variable ${s.variable}`);

export class Keyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** The id of the key that encrypts. */
  readonly currentId: string;

  constructor(
    keys: ReadonlyArray<{ id: string; key: Buffer }>,
    /** Where the keys came from, for messages ("the key file /etc/hardway/codec.keys"). */
    readonly source: string,
  ) {
    if (!keys[0]) throw new CodecKeyError(`${source} holds no key: ${MAKE_ONE}.`);
    this.currentId = keys[0].id;
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  get currentKey(): Buffer {
    return this.#keys.get(this.currentId)!;
  }
}

/** Parses keyring text: `id:base64key` entries, one per line (or also separated by commas); the first is current. */
export function parseKeyring(text: string, source: string, o: { commas?: boolean } = {}): Keyring {
  const keys: { id: string; key: Buffer }[] = [];
  const entries = text.split(o.commas ? /[\n,]/ : '\n').map((line, i) => ({ line: line.replace(/#.*$/, '').trim(), n: i + 1 }));
  for (const { line, n } of entries) {
    if (!line) continue;
    const where = `${source}, ${o.commas ? 'entry' : 'line'} ${n}`;
    const colon = line.indexOf(':');
    if (colon < 0) throw new CodecKeyError(`${where}: expected "id:base64key", found no ":" (${MAKE_ONE}).`);
    const id = line.slice(0, colon).trim();
    const encoded = line.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) {
      throw new CodecKeyError(
        `${where}: the key id "${id}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
      );
    }
    if (keys.some((k) => k.id === id)) throw new CodecKeyError(`${where}: the key id '${id}' appears twice; give each key its own id.`);
    const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
    if (!key || key.length !== KEY_BYTES) {
      throw new CodecKeyError(
        `${where}: the key '${id}' is ${key ? `${key.length} bytes` : 'not base64'}; an AES-256 key is exactly ${KEY_BYTES} bytes, ` +
          `base64-encoded (${MAKE_ONE}).`,
      );
    }
    keys.push({ id, key });
  }
  return new Keyring(keys, source);
}

export function loadKeyring(s: KeySource): Keyring {
  const source = describeSource(s);
  if ('text' in s) return parseKeyring(s.text, source, { commas: true });
  let text: string;
  try {
    text = readFileSync(s.file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CodecKeyError(
      code === 'ENOENT'
        ? `${source} does not exist: give the path of an existing key file, or ${MAKE_ONE}.`
        : `${source} cannot be read (${code ?? (e as Error).message}): check its path and permissions.`,
    );
  }
  return parseKeyring(text, source);
}

/**
 * The keys a command was given: the key file (flag or HARDWAY_CODEC_KEY_FILE) wins over HARDWAY_CODEC_KEY; none
 * means that payloads are not encrypted.
 */
export function keySource(file: string | undefined, env: NodeJS.ProcessEnv = process.env): KeySource | undefined {
  const path = file ?? env[KEY_FILE_VARIABLE];
  if (path) return { file: path };
  const text = env[KEY_VARIABLE];
  return text ? { variable: KEY_VARIABLE, text } : undefined;
}

/** A new key id: the date, and random hex so that two keys made the same day differ. */
export const newKeyId = (now = new Date()): string =>
  `k${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;

const HEADER =
  '# hardway payload encryption keys (docs/encryption.md): one "id:base64key" per line.\n' +
  '# The first key encrypts; every key here decrypts. Keep this file secret (mode 0600).\n';

/**
 * Writes a new random key to `file` (mode 0600) and returns its id. A new file gets it alone; with `rotate`, an
 * existing file gets it as its first (current) key, its old keys kept below for decoding. The file is replaced
 * whole (a temporary file renamed over it), so a reader never sees half of it.
 */
export function writeNewKey(file: string, o: { rotate?: boolean; id?: string } = {}): { id: string; keys: number } {
  const exists = existsSync(file);
  if (exists && !o.rotate) {
    throw new CodecKeyError(`${file} exists: add --rotate to put a new current key ahead of its keys (they still decrypt).`);
  }
  if (!exists && o.rotate) throw new CodecKeyError(`${file} does not exist: leave out --rotate to make a new key file.`);
  const old = exists ? loadKeyring({ file }) : undefined;
  const id = o.id ?? newKeyId();
  if (!KEY_ID.test(id)) throw new CodecKeyError(`--id "${id}": a key id is 1-64 letters, digits, ".", "_" or "-".`);
  if (old?.key(id)) throw new CodecKeyError(`${file} already has a key '${id}': choose another --id.`);
  const lines = [`${id}:${randomBytes(KEY_BYTES).toString('base64')}`];
  for (const oldId of old?.ids ?? []) lines.push(`${oldId}:${old!.key(oldId)!.toString('base64')}`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${HEADER}${lines.join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CodecKeyError(`cannot write ${file}: ${(e as Error).message}`);
  }
  return { id, keys: lines.length };
}
