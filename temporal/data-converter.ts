// What clients and workers convert payloads with: the SDK's defaults, or, when a key is given, the encryption codec
// and a failure converter that moves failure messages into encrypted payloads. Both sides must use the same.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { keySource, loadKeyring } from './codec-keys.js';
import { EncryptionCodec } from './payload-codec.js';

/** The encryption codec for the keys a command was given (key file flag, or the environment), or none. */
export function payloadCodecFor(keyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const source = keySource(keyFile, env);
  return source ? new EncryptionCodec(loadKeyring(source)) : undefined;
}

/** A plain file of the source tree, which tsc does not copy: next to this module, or from dist/temporal/ back to it. */
function encodedFailuresPath(): string {
  const here = fileURLToPath(new URL('./encoded-failures.cjs', import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL('../../temporal/encoded-failures.cjs', import.meta.url));
}

export function dataConverterFor(codec: EncryptionCodec | undefined): DataConverter | undefined {
  return codec ? { payloadCodecs: [codec], failureConverterPath: encodedFailuresPath() } : undefined;
}
