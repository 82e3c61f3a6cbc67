// The namespace hardway runs in, and its search attributes, on a server that has neither (a fresh temporal-server
// creates no namespace; the dev server and the compose file's temporal-setup service do this for theirs). Both
// steps keep what is already there, so they are safe on every start.
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../search-attributes.js';

const ALREADY_EXISTS = 6;
const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;

const grpcCode = (e: unknown): number | undefined => (e as { code?: number }).code;

/** Registers `namespace` (7 days of retention) and hardway's Keyword search attributes in it. */
export async function prepareNamespace(address: string, namespace: string, timeoutMs = 60_000): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService
      .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7 days') })
      .catch((e: unknown) => {
        if (grpcCode(e) !== ALREADY_EXISTS) throw e;
      });
    // A namespace just registered reaches the frontend's cache within seconds: wait until it takes requests.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let waitingFor: string;
      const listed = await connection.operatorService.listSearchAttributes({ namespace }).catch((e: Error) => e);
      if (listed instanceof Error) waitingFor = listed.message;
      else {
        const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (listed.customAttributes ?? {})));
        if (!missing.length) return;
        waitingFor = `search attributes ${missing.map((k) => k.name).join(', ')}`;
        await connection.operatorService
          .addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((k) => [k.name, KEYWORD])) })
          .catch((e: unknown) => {
            if (grpcCode(e) !== ALREADY_EXISTS) throw e;
          });
      }
      if (Date.now() > deadline) {
        throw new Error(`namespace ${namespace} on ${address} was not ready within ${timeoutMs / 1000} s: ${waitingFor}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await connection.close();
  }
}
