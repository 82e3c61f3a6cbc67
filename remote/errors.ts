// Errors raised by the SSH layer. They are declared, with their failure type and retryability, in
// model/errors.ts (the one place that decides retryability and derives the workflow's non-retryable list).
export {
  AuthenticationFailed,
  CommandFailed,
  CommandTimeout,
  ConnectionFailed,
  HostKeyMismatch,
  HostKeyUnknown,
  isRetryable,
  RemoteError,
  SshConfigError,
  tail,
  TAIL_BYTES,
} from '../model/errors.js';
