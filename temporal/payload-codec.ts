// The payload codec that encrypts what hardway stores in Temporal (inputs, results, queries, summaries): AES-256-GCM
// over the whole original Payload (its metadata and data), a random 12-byte IV per payload, the key's id in the
// metadata so that rotated keys still decrypt. A payload that is not encrypted passes through unchanged: histories
// written before encryption was turned on still read.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Keyring } from './codec-keys.js';

const { temporal } = proto;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const ENCODING_METADATA = 'encoding';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload that cannot be decrypted with the keys given: the message names the key id and what to do. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const text = (b: Uint8Array | null | undefined): string | undefined => (b ? Buffer.from(b).toString('utf8') : undefined);

export const isEncrypted = (p: Payload): boolean => text(p.metadata?.[ENCODING_METADATA]) === ENCRYPTED_ENCODING;

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  /** Where its keys came from ("the key file …"), for messages. */
  get keySource(): string {
    return this.keyring.source;
  }

  /** The id of the key that encrypts (never the key). */
  get currentKeyId(): string {
    return this.keyring.currentId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (isEncrypted(p) ? this.decrypt(p) : p));
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyring.currentKey, iv);
    const clear = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(clear), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [ENCODING_METADATA]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(this.keyring.currentId),
      },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    const { source } = this.keyring;
    if (!id)
      throw new PayloadDecryptionError(
        `an encrypted payload names no key id (metadata ${KEY_ID_METADATA}): it was not written by hardway.`,
      );
    const key = this.keyring.key(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `this payload was encrypted with key '${id}', which is not in ${source} (it holds ${this.keyring.ids.map((k) => `'${k}'`).join(', ')}). ` +
          `Give the key file that holds '${id}' (--codec-key-file), or add that key to ${source} below the current one.`,
      );
    }
    const sealed = Buffer.from(payload.data ?? []);
    if (sealed.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `a payload encrypted with key '${id}' is ${sealed.length} bytes, too short to be one: it was cut or altered.`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let clear: Buffer;
    try {
      clear = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `a payload encrypted with key '${id}' does not decrypt with the key '${id}' of ${source}: that key is not the one that ` +
          `encrypted it (same id, other key), or the payload was altered. Use the key file of the workers that wrote it.`,
      );
    }
    return temporal.api.common.v1.Payload.decode(clear);
  }
}
