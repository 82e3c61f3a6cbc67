// hardway server: the Temporal dev server in the foreground, with hardway's search attributes registered.
import type { Command } from 'commander';
import { defaultDbFile, devServerArgs, spawnDevServer } from '../../temporal/dev-server.js';
import { err } from '../io.js';

export function serverCommand(program: Command): void {
  program
    .command('server')
    .description("run the Temporal dev server (SQLite file, so runs survive a restart) with hardway's search attributes")
    .option('--db <file>', 'SQLite database file', defaultDbFile())
    .option('--port <port>', 'frontend port', (v) => Number(v), 7233)
    .option('--ui-port <port>', 'web UI port (default: port + 1000)', (v) => Number(v))
    .option('--ip <address>', 'address to listen on', '127.0.0.1')
    .option('--headless', 'no web UI')
    .option('--ui-codec-endpoint <url>', 'the UI decodes payloads with this codec server (hardway codec-server, docs/encryption.md)')
    .action((o: { db: string; port: number; uiPort?: number; ip: string; headless?: boolean; uiCodecEndpoint?: string }) => {
      err(`temporal ${devServerArgs(o).join(' ')}`);
      const child = spawnDevServer(o, 'inherit');
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
      child.on('exit', (code) => process.exit(code ?? 0));
    });
}
