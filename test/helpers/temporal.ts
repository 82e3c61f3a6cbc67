// A real Temporal dev server for tests, from the CLI that scripts/setup.sh installs (never downloaded).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalBinary } from '../../temporal/paths.js';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes.js';

export async function devServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: SEARCH_ATTRIBUTES,
      ip: '127.0.0.1',
      ui: false,
    },
  });
}
