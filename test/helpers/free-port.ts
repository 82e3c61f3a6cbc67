// A TCP port free on the loopback right now (for servers a test starts).
export { freePort } from '../../temporal/free-port.js';
