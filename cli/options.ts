// What several commands share: the Temporal connection flags, and where the package (and its seed cluster file) lives.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';

/** The repository (or installed package) root: where examples/ lives. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The ten-host seed cluster file, the default of `lab up` and `demo`. */
export const seedFile = (): string => join(packageRoot(), 'examples', 'seed-cluster.yaml');

/**
 * Adds --address, --namespace, the --tls* flags and --codec-key-file (parsed by temporalOptions in temporal/connection.ts). A command
 * whose own --address is something else (add-worker: the node's) names the Temporal one `--temporal-address`.
 */
export function temporalFlags(cmd: Command, o: { addressFlag?: '--address' | '--temporal-address' } = {}): Command {
  return cmd
    .addOption(new Option(`${o.addressFlag ?? '--address'} <host:port>`, 'Temporal frontend address').env('HARDWAY_TEMPORAL_ADDRESS'))
    .addOption(new Option('--namespace <ns>', 'Temporal namespace').env('HARDWAY_TEMPORAL_NAMESPACE'))
    .option('--tls', 'connect to Temporal with TLS')
    .option('--tls-ca <file>', 'CA certificate for the Temporal server (implies --tls)')
    .option('--tls-cert <file>', 'client certificate for mTLS (implies --tls)')
    .option('--tls-key <file>', 'client key for mTLS (implies --tls)')
    .option('--tls-server-name <name>', 'server name to verify in the Temporal server certificate')
    .addOption(
      new Option('--api-key-file <file>', 'Temporal Cloud API key, read from this file (or TEMPORAL_API_KEY); implies TLS').env(
        'TEMPORAL_API_KEY_FILE',
      ),
    )
    .addOption(
      new Option(
        '--codec-key-file <file>',
        'encrypt payloads with these keys (docs/encryption.md; or HARDWAY_CODEC_KEY); off when not given',
      ).env('HARDWAY_CODEC_KEY_FILE'),
    );
}
