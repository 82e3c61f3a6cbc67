// How the CLI and the worker reach Temporal: flags win over environment variables, which win over defaults.
import { readFileSync } from 'node:fs';
import { Connection, Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { dataConverterFor, payloadCodecFor } from './data-converter.js';
import type { EncryptionCodec } from './payload-codec.js';

export interface TemporalOptions {
  address: string;
  namespace: string;
  tls?: { serverName?: string; serverRootCAFile?: string; clientCertFile?: string; clientKeyFile?: string };
  /** Encrypts payloads when a key was given (docs/encryption.md); clients and workers of a cluster use the same keys. */
  codec?: EncryptionCodec;
  /** A Temporal Cloud (or other) API key, sent as a bearer token; TLS is on with it unless said otherwise. Never logged. */
  apiKey?: string;
}

export interface TemporalFlags {
  address?: string;
  namespace?: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  codecKeyFile?: string;
  apiKeyFile?: string;
}

export function temporalOptions(flags: TemporalFlags = {}, env: NodeJS.ProcessEnv = process.env): TemporalOptions {
  const address = flags.address ?? env.HARDWAY_TEMPORAL_ADDRESS ?? env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const namespace = flags.namespace ?? env.HARDWAY_TEMPORAL_NAMESPACE ?? env.TEMPORAL_NAMESPACE ?? 'default';
  const ca = flags.tlsCa ?? env.TEMPORAL_TLS_CA;
  const cert = flags.tlsCert ?? env.TEMPORAL_TLS_CERT;
  const key = flags.tlsKey ?? env.TEMPORAL_TLS_KEY;
  const serverName = flags.tlsServerName ?? env.TEMPORAL_TLS_SERVER_NAME;
  const wantTls = flags.tls || !!(ca || cert || key) || env.TEMPORAL_TLS === 'true';
  if ((cert && !key) || (key && !cert)) {
    throw new Error('TLS: --tls-cert and --tls-key (TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY) must be given together.');
  }
  const apiKey = apiKeyFrom(flags.apiKeyFile ?? env.TEMPORAL_API_KEY_FILE, env);
  return {
    address,
    namespace,
    tls: wantTls ? { serverName, serverRootCAFile: ca, clientCertFile: cert, clientKeyFile: key } : undefined,
    codec: payloadCodecFor(flags.codecKeyFile, env),
    ...(apiKey ? { apiKey } : {}),
  };
}

/**
 * The API key: from a file (--api-key-file / TEMPORAL_API_KEY_FILE), else TEMPORAL_API_KEY. Never a flag's value:
 * a command line is visible to every user of the machine.
 */
function apiKeyFrom(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file) {
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new Error(
        `Cannot read the Temporal API key file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): fix --api-key-file / TEMPORAL_API_KEY_FILE.`,
      );
    }
    if (!key || /\s/.test(key)) {
      throw new Error(
        `The Temporal API key file ${file} must hold the key alone, on one line (it is ${key ? 'more than one word' : 'empty'}).`,
      );
    }
    return key;
  }
  return env.TEMPORAL_API_KEY?.trim() || undefined;
}

function tlsConfig(o: TemporalOptions) {
  if (!o.tls) return undefined;
  return {
    serverNameOverride: o.tls.serverName,
    serverRootCACertificate: o.tls.serverRootCAFile ? readFileSync(o.tls.serverRootCAFile) : undefined,
    clientCertPair:
      o.tls.clientCertFile && o.tls.clientKeyFile
        ? { crt: readFileSync(o.tls.clientCertFile), key: readFileSync(o.tls.clientKeyFile) }
        : undefined,
  };
}

export async function connectClient(o: TemporalOptions): Promise<Client> {
  const connection = await Connection.connect({ address: o.address, tls: tlsConfig(o), apiKey: o.apiKey, connectTimeout: '5s' }).catch(
    (err: unknown) => {
      throw new Error(
        `Cannot reach Temporal at ${o.address} (${(err as Error).message}). Start one with \`hardway server\`, ` +
          'or point --address / HARDWAY_TEMPORAL_ADDRESS at yours.',
      );
    },
  );
  return new Client({ connection, namespace: o.namespace, dataConverter: dataConverterFor(o.codec) });
}

export async function connectWorker(o: TemporalOptions): Promise<NativeConnection> {
  // Loaded here, not at the top: every CLI command imports this module, and only workers need the native SDK.
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect({ address: o.address, tls: tlsConfig(o), apiKey: o.apiKey });
}
