// Public surface of the SSH layer.
export * from './errors.js';
export * from './known-hosts.js';
export * from './connection.js';
export * from './pool.js';
export * from './exec.js';
export * from './files.js';
