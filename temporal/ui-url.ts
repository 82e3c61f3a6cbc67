// Where the Temporal web UI of a frontend is, for the links the CLI prints: the one given (--ui-url,
// HARDWAY_TEMPORAL_UI), else the dev server's convention (the frontend port + 1000, as `hardway server` and
// `temporal server start-dev` put it) when that answers on a local address, else none: a link that may be wrong is
// worse than no link.
import { request } from 'node:http';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The dev-server UI a local frontend `address` ("host:port") would have, or undefined for any other address. */
export function devServerUiGuess(address: string): string | undefined {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address.trim());
  if (!m || !LOCAL_HOSTS.has(m[1]!)) return undefined;
  const port = Number(m[2]) + 1000;
  return port < 65536 ? `http://${m[1]}:${port}` : undefined;
}

/** Whether `url` answers HTTP within `timeoutMs` (any status: a UI that is up). */
export function answersHttp(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * The UI's base URL for a frontend: `given` when set (trusted as it is), else the dev server's when it answers,
 * else undefined.
 */
export async function temporalUiUrl(address: string, given?: string): Promise<string | undefined> {
  if (given) return given.replace(/\/+$/, '');
  const guess = devServerUiGuess(address);
  return guess && (await answersHttp(guess)) ? guess : undefined;
}

/** The page of one workflow in the UI. */
export const workflowPage = (ui: string, namespace: string, workflowId: string): string =>
  `${ui}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
