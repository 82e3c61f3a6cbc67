// TCP ports free on the loopback right now, for servers started on this machine (tests, a local Temporal).
import { createServer, type Server } from 'node:net';

export interface PortRange {
  /** Lowest port, inclusive. */
  from: number;
  /** Highest port, inclusive. */
  to: number;
}

/** Listens on `port` (0: any), resolving with the port and the server, or undefined when it is taken. */
function hold(host: string, port: number): Promise<{ port: number; server: Server } | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ port: typeof addr === 'object' && addr ? addr.port : 0, server });
    });
  });
}

/**
 * `count` distinct ports, each free when this resolves (all are held open until every one is found): any the kernel
 * hands out, or random ones in `range` (e.g. below the kernel's ephemeral range, for a server that stores its ports
 * in a 16-bit signed column).
 */
export async function freePorts(count: number, range?: PortRange, host = '127.0.0.1'): Promise<number[]> {
  const held: Server[] = [];
  try {
    const ports: number[] = [];
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > count * 100) throw new Error(`no ${count} free ports on ${host}${range ? ` in ${range.from}-${range.to}` : ''}`);
      const want = range ? range.from + Math.floor(Math.random() * (range.to - range.from + 1)) : 0;
      const got = await hold(host, want);
      if (!got) continue;
      held.push(got.server);
      if (!ports.includes(got.port)) ports.push(got.port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
}

export async function freePort(range?: PortRange, host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, range, host);
  return port!;
}
