// The remote codec the Temporal UI's Data Encoder (and `temporal --codec-endpoint`) calls: POST /encode and /decode
// with `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}` (proto JSON: bytes in base64),
// answered in the same shape; any path prefix is accepted (`/{namespace}/decode`). The browser calls it from the UI's
// origin, so it answers CORS preflights for the origins it is given, and no other.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call it, e.g. http://localhost:8233 (the dev server's UI). */
  origins: string[];
  port?: number;
  host?: string;
  /** Told each request's outcome: path, status and, for a failure, why (never a payload). */
  log?: (line: string) => void;
}

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

/** A request the server refuses, with its HTTP status and a message for the caller. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization, caller-type, client-name, client-version';

function fromJson(p: unknown, i: number): Payload {
  if (!p || typeof p !== 'object') throw new Refusal(400, `payloads[${i}] is not an object`);
  const { metadata, data } = p as JsonPayload;
  if (data != null && typeof data !== 'string') throw new Refusal(400, `payloads[${i}].data is not a base64 string`);
  if (metadata != null && typeof metadata !== 'object') throw new Refusal(400, `payloads[${i}].metadata is not an object`);
  const entries = Object.entries(metadata ?? {}).map(([k, v]): [string, Uint8Array] => {
    if (typeof v !== 'string') throw new Refusal(400, `payloads[${i}].metadata.${k} is not a base64 string`);
    return [k, Buffer.from(v, 'base64')];
  });
  return { metadata: Object.fromEntries(entries), data: Buffer.from(data ?? '', 'base64') };
}

function toJson(p: Payload): JsonPayload {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v ?? new Uint8Array())])),
    data: b64(p.data ?? new Uint8Array()),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, `the request is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function payloadsOf(req: IncomingMessage): Promise<Payload[]> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (e) {
    if (e instanceof Refusal) throw e;
    throw new Refusal(400, `the body is not JSON (${(e as Error).message}); send {"payloads": [...]}`);
  }
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new Refusal(400, 'the body has no "payloads" array; send {"payloads": [...]}');
  return payloads.map(fromJson);
}

function corsHeaders(req: IncomingMessage, origins: string[]): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || !origins.includes(origin)) return { Vary: 'Origin' };
  return {
    Vary: 'Origin',
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
    // Chrome's Private Network Access asks before a page calls a more private address (a UI served elsewhere).
    ...(req.headers['access-control-request-private-network'] === 'true' ? { 'Access-Control-Allow-Private-Network': 'true' } : {}),
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

export function codecRequestHandler(o: CodecServerOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const cors = corsHeaders(req, o.origins);
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const action = path.endsWith('/decode') ? 'decode' : path.endsWith('/encode') ? 'encode' : undefined;
    try {
      if (req.method === 'OPTIONS') return send(res, 204, cors);
      if (!action) throw new Refusal(404, `no such endpoint ${path}: POST /encode or /decode`);
      if (req.method !== 'POST') throw new Refusal(405, `${req.method} ${path}: use POST`);
      const payloads = await payloadsOf(req);
      const done = action === 'decode' ? await o.codec.decode(payloads) : await o.codec.encode(payloads);
      send(res, 200, cors, { payloads: done.map(toJson) });
      o.log?.(`${action}: ${payloads.length} payload(s)`);
    } catch (e) {
      // A payload the keys cannot decrypt is the caller's data, not a fault of the server: 422 with the codec's reason.
      const status = e instanceof Refusal ? e.status : 422;
      send(res, status, { ...cors, ...(status === 405 ? { Allow: 'POST, OPTIONS' } : {}) }, { error: (e as Error).message });
      o.log?.(`${req.method} ${path}: ${status} ${(e as Error).message}`);
    }
  };
}

/** Starts the server; resolves with it and the port it listens on (useful with port 0). */
export async function startCodecServer(o: CodecServerOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const handle = codecRequestHandler(o);
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8888, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { server, port, close };
}
