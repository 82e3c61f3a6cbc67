// hardway codec-key FILE: a new random AES-256 key for payload encryption, in a key file of mode 0600; --rotate puts
// a new current key ahead of the file's keys, which stay to decrypt what they encrypted. The key is never printed.
import type { Command } from 'commander';
import { writeNewKey } from '../../temporal/codec-keys.js';
import { out } from '../io.js';

export function codecKeyCommand(program: Command): void {
  program
    .command('codec-key')
    .description('make a payload encryption key file (mode 0600), or --rotate: add a new current key to one (docs/encryption.md)')
    .argument('<file>', 'the key file to create (or to rotate)')
    .option('--rotate', 'the file exists: put a new key first (it encrypts from now on); its keys stay to decrypt')
    .option('--id <id>', 'the new key id (default: k<date>-<random hex>)')
    .action((file: string, o: { rotate?: boolean; id?: string }) => {
      const { id, keys } = writeNewKey(file, o);
      out(`${file}: new current key '${id}'${keys > 1 ? ` (${keys - 1} older key(s) kept for decoding)` : ''}, mode 0600`);
      out(`give it to every worker and client of the cluster: --codec-key-file ${file} (or HARDWAY_CODEC_KEY_FILE=${file})`);
      if (keys > 1) out('restart the workers and the codec server to encrypt with it');
    });
}
