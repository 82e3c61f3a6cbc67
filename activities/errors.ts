// Errors the activities raise on purpose. They are declared, with their failure type and retryability, in
// model/errors.ts (the one place that decides retryability and derives the workflow's non-retryable list).
export { ConfigurationError, DependsOnChanges, HardwayError, isRetryable, NotReady, PreflightFailed } from '../model/errors.js';
