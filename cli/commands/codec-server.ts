// hardway codec-server: decodes and encodes payloads for the Temporal UI's Data Encoder (and `temporal
// --codec-endpoint`), with the keys of the workers; listens on 127.0.0.1 unless told otherwise.
import { Option, type Command } from 'commander';
import { KEY_FILE_VARIABLE, KEY_VARIABLE } from '../../temporal/codec-keys.js';
import { startCodecServer } from '../../temporal/codec-server.js';
import { payloadCodecFor } from '../../temporal/data-converter.js';
import { err, out } from '../io.js';
import { UsageError } from '../load-spec.js';

export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

interface CodecServerFlags {
  port: number;
  ip: string;
  origin: string[];
  codecKeyFile?: string;
  verbose?: boolean;
}

export function codecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description("decode encrypted payloads for the Temporal UI's Data Encoder: POST /decode and /encode (docs/encryption.md)")
    .option('--port <port>', 'port to listen on', (v) => Number(v), 8888)
    .option('--ip <address>', 'address to listen on', '127.0.0.1')
    .option('--origin <url...>', 'the Temporal UI origin(s) the browser calls from', DEFAULT_UI_ORIGINS)
    .addOption(new Option('--codec-key-file <file>', 'the key file of the workers (or HARDWAY_CODEC_KEY)').env(KEY_FILE_VARIABLE))
    .option('--verbose', 'a line per request')
    .action(async (o: CodecServerFlags) => {
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UsageError(`--port ${o.port}: give a TCP port`);
      const codec = payloadCodecFor(o.codecKeyFile);
      if (!codec) {
        throw new UsageError(
          `codec-server needs the keys the workers encrypt with: --codec-key-file FILE, or ${KEY_FILE_VARIABLE} or ${KEY_VARIABLE} ` +
            '(make a key file with `hardway codec-key FILE`).',
        );
      }
      const { port, close } = await startCodecServer({
        codec,
        origins: o.origin,
        port: o.port,
        host: o.ip,
        log: o.verbose ? err : undefined,
      }).catch((e: NodeJS.ErrnoException) => {
        throw new Error(
          e.code === 'EADDRINUSE'
            ? `${o.ip}:${o.port} is in use: give another --port (and the same to the UI)`
            : `cannot listen on ${o.ip}:${o.port}: ${e.message}`,
        );
      });
      const endpoint = `http://${o.ip.includes(':') ? `[${o.ip}]` : o.ip}:${port}`;
      out(
        `codec server on ${endpoint} with ${codec.keySource} (encrypts with key '${codec.currentKeyId}'), for the UI at ${o.origin.join(', ')}`,
      );
      out(`give the UI this endpoint: its Codec Server setting, or \`hardway server --ui-codec-endpoint ${endpoint}\` for the dev server`);
      await new Promise<void>((resolve) => {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
      });
      await close();
    });
}
