// Errors whose class name becomes the Temporal failure type (see NON_RETRYABLE in activities/types.ts).

/** The cluster file or the host does not match what the plan needs; retrying cannot help. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A preflight check failed on a host (too little memory, a missing command, an unsupported OS). */
export class PreflightFailed extends Error {
  override name = 'PreflightFailed';
}

/** Something is not ready yet (a service starting, a quorum forming): retry with backoff. */
export class NotReady extends Error {
  override name = 'NotReady';
}
