// IPv4 address and CIDR arithmetic. Pure: no Node built-ins, no I/O.
import { quote } from './excerpt.js';
//
// Addresses are represented as unsigned 32-bit integers held in ordinary JS numbers (0 .. 2^32-1).
// Never use bitwise results without `>>> 0`: JS bitwise operators work on signed 32-bit integers.

export class CidrError extends Error {
  override name = 'CidrError';
}

export interface Cidr {
  /** Network address as an unsigned 32-bit integer (host bits are zero). */
  readonly network: number;
  /** Prefix length, 0..32. */
  readonly prefix: number;
}

export type IPv4Result = { ok: true; value: number } | { ok: false; error: string };
export type CidrResult = { ok: true; value: Cidr } | { ok: false; error: string };

const MAX = 0xffffffff;

/** Netmask for a prefix length, as an unsigned integer (prefix 0 -> 0, prefix 32 -> 0xffffffff). */
export function prefixMask(prefix: number): number {
  assertPrefix(prefix);
  return prefix === 0 ? 0 : (MAX << (32 - prefix)) >>> 0;
}

function assertPrefix(prefix: number): void {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new CidrError(`prefix length must be an integer between 0 and 32, got ${String(prefix)}`);
  }
}

/** Parse a dotted-quad IPv4 address strictly: four decimal octets 0..255, no leading zeros, no spaces. */
export function tryParseIPv4(text: string): IPv4Result {
  if (typeof text !== 'string') return { ok: false, error: 'an IPv4 address must be a string' };
  if (text.length === 0) return { ok: false, error: 'empty IPv4 address' };
  const parts = text.split('.');
  if (parts.length !== 4) {
    return { ok: false, error: `${quote(text)} is not an IPv4 address: expected four numbers separated by dots, like 192.168.56.10` };
  }
  let value = 0;
  for (const part of parts) {
    if (!/^[0-9]+$/.test(part)) {
      return { ok: false, error: `${quote(text)} is not an IPv4 address: ${quote(part)} is not a decimal number` };
    }
    if (part.length > 1 && part.startsWith('0')) {
      return {
        ok: false,
        error: `${quote(text)} is not an IPv4 address: ${quote(part)} has a leading zero (ambiguous: octal or decimal?)`,
      };
    }
    const n = Number(part);
    if (n > 255) return { ok: false, error: `${quote(text)} is not an IPv4 address: ${quote(part).slice(1, -1)} is greater than 255` };
    value = value * 256 + n;
  }
  return { ok: true, value };
}

export function isIPv4(text: string): boolean {
  return tryParseIPv4(text).ok;
}

/** Parse an IPv4 address; throws CidrError with a readable message when invalid. */
export function parseIPv4(text: string): number {
  const r = tryParseIPv4(text);
  if (!r.ok) throw new CidrError(r.error);
  return r.value;
}

/** Format an unsigned 32-bit integer as a dotted quad. */
export function formatIPv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > MAX) {
    throw new CidrError(`${String(value)} is not a 32-bit unsigned integer`);
  }
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Parse "a.b.c.d/p". Rejects host bits set (e.g. 10.244.1.0/16) with the corrected network in the message. */
export function tryParseCidr(text: string): CidrResult {
  if (typeof text !== 'string') return { ok: false, error: 'a CIDR range must be a string' };
  const slash = text.indexOf('/');
  if (slash < 0) {
    return { ok: false, error: `${quote(text)} is not a CIDR range: missing "/prefix", e.g. 10.244.0.0/16` };
  }
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const addr = tryParseIPv4(addrText);
  if (!addr.ok) return { ok: false, error: `${quote(text)} is not a CIDR range: ${addr.error}` };
  if (!/^(0|[1-9][0-9]?)$/.test(prefixText) || Number(prefixText) > 32) {
    return { ok: false, error: `${quote(text)} is not a CIDR range: prefix length ${quote(prefixText)} must be a number from 0 to 32` };
  }
  const prefix = Number(prefixText);
  const mask = prefixMask(prefix);
  const network = (addr.value & mask) >>> 0;
  if (network !== addr.value) {
    return {
      ok: false,
      error: `${quote(text)} has host bits set: the network address of a /${prefix} containing ${addrText} is ${formatIPv4(network)}; did you mean ${formatIPv4(network)}/${prefix}?`,
    };
  }
  return { ok: true, value: { network, prefix } };
}

export function isCidr(text: string): boolean {
  return tryParseCidr(text).ok;
}

/** Parse a CIDR range; throws CidrError with a readable message when invalid. */
export function parseCidr(text: string): Cidr {
  const r = tryParseCidr(text);
  if (!r.ok) throw new CidrError(r.error);
  return r.value;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.network)}/${cidr.prefix}`;
}

/** Build a Cidr from any address in it and a prefix (host bits are cleared). */
export function cidrOf(address: number | string, prefix: number): Cidr {
  const a = typeof address === 'string' ? parseIPv4(address) : address;
  return { network: (a & prefixMask(prefix)) >>> 0, prefix };
}

function toCidr(c: Cidr | string): Cidr {
  return typeof c === 'string' ? parseCidr(c) : c;
}

function toAddr(a: number | string): number {
  return typeof a === 'string' ? parseIPv4(a) : a;
}

/** Number of addresses in the range (2^(32-prefix)). */
export function cidrSize(c: Cidr | string): number {
  return 2 ** (32 - toCidr(c).prefix);
}

/** Last address of the range (the broadcast address for prefixes up to /30). */
export function lastAddress(c: Cidr | string): number {
  const cidr = toCidr(c);
  return cidr.network + cidrSize(cidr) - 1;
}

/** Whether the address is inside the range. */
export function cidrContains(c: Cidr | string, address: number | string): boolean {
  const cidr = toCidr(c);
  const a = toAddr(address);
  return (a & prefixMask(cidr.prefix)) >>> 0 === cidr.network;
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrContainsCidr(outer: Cidr | string, inner: Cidr | string): boolean {
  const o = toCidr(outer);
  const i = toCidr(inner);
  return i.prefix >= o.prefix && cidrContains(o, i.network);
}

/** Whether two ranges share at least one address (CIDR ranges either nest or are disjoint). */
export function cidrsOverlap(a: Cidr | string, b: Cidr | string): boolean {
  const x = toCidr(a);
  const y = toCidr(b);
  return cidrContainsCidr(x, y) || cidrContainsCidr(y, x);
}

export function cidrEquals(a: Cidr | string, b: Cidr | string): boolean {
  const x = toCidr(a);
  const y = toCidr(b);
  return x.network === y.network && x.prefix === y.prefix;
}

/**
 * The n-th address of the range, counting from 0 (the network address). Negative n counts from the end
 * (-1 is the last address). Throws when n is outside the range.
 */
export function nthAddress(c: Cidr | string, n: number): number {
  const cidr = toCidr(c);
  const size = cidrSize(cidr);
  if (!Number.isInteger(n)) throw new CidrError(`address index must be an integer, got ${String(n)}`);
  const idx = n < 0 ? size + n : n;
  if (idx < 0 || idx >= size) {
    throw new CidrError(`${formatCidr(cidr)} has ${size} addresses; index ${n} is outside it`);
  }
  return cidr.network + idx;
}

/** Like nthAddress, formatted as a dotted quad. */
export function nthAddressString(c: Cidr | string, n: number): string {
  return formatIPv4(nthAddress(c, n));
}

/** Index of an address inside a range (0 = network address), or -1 when outside. */
export function addressIndex(c: Cidr | string, address: number | string): number {
  const cidr = toCidr(c);
  const a = toAddr(address);
  return cidrContains(cidr, a) ? a - cidr.network : -1;
}

/** True for the network address and (for prefixes up to /30) the broadcast address of the range. */
export function isNetworkOrBroadcast(c: Cidr | string, address: number | string): boolean {
  const cidr = toCidr(c);
  if (cidr.prefix > 30) return false; // /31 and /32 have no network/broadcast addresses (RFC 3021)
  const a = toAddr(address);
  return a === cidr.network || a === lastAddress(cidr);
}

/** How many subnets of the given prefix fit in the range (0 when newPrefix is shorter than the range's). */
export function subnetCount(c: Cidr | string, newPrefix: number): number {
  const cidr = toCidr(c);
  assertPrefix(newPrefix);
  if (newPrefix < cidr.prefix) return 0;
  return 2 ** (newPrefix - cidr.prefix);
}

/** The n-th subnet (from 0) of the given prefix inside the range. Throws when out of range. */
export function nthSubnet(c: Cidr | string, newPrefix: number, n: number): Cidr {
  const cidr = toCidr(c);
  const count = subnetCount(cidr, newPrefix);
  if (count === 0) {
    throw new CidrError(`a /${newPrefix} does not fit in ${formatCidr(cidr)}: the prefix must be at least ${cidr.prefix}`);
  }
  if (!Number.isInteger(n) || n < 0 || n >= count) {
    throw new CidrError(`${formatCidr(cidr)} holds ${count} subnets of /${newPrefix}; index ${String(n)} is outside it`);
  }
  return { network: cidr.network + n * 2 ** (32 - newPrefix), prefix: newPrefix };
}

/**
 * Index of `sub` among the /sub.prefix subnets of `c`, or -1 when `sub` is not inside `c` or `sub` has
 * a different prefix than `newPrefix` (when given).
 */
export function subnetIndex(c: Cidr | string, sub: Cidr | string, newPrefix?: number): number {
  const cidr = toCidr(c);
  const s = toCidr(sub);
  if (newPrefix !== undefined && s.prefix !== newPrefix) return -1;
  if (!cidrContainsCidr(cidr, s)) return -1;
  return (s.network - cidr.network) / 2 ** (32 - s.prefix);
}

/**
 * The lowest subnet of the given prefix inside `c` that overlaps none of `used`, or undefined when the
 * range is full. O(n log n) in the number of used ranges, whatever the size of `c`.
 */
export function lowestFreeSubnet(c: Cidr | string, newPrefix: number, used: readonly (Cidr | string)[]): Cidr | undefined {
  const cidr = toCidr(c);
  if (subnetCount(cidr, newPrefix) === 0) return undefined;
  const step = 2 ** (32 - newPrefix);
  const end = cidr.network + cidrSize(cidr);
  const align = (addr: number) => cidr.network + Math.ceil((addr - cidr.network) / step) * step;
  // Sweep the used ranges in address order; `pos` is the first address not known to be covered.
  const sorted = used.map(toCidr).sort((a, b) => a.network - b.network);
  let pos = cidr.network;
  for (const u of sorted) {
    const uEnd = u.network + cidrSize(u);
    if (uEnd <= pos) continue;
    const candidate = align(pos);
    if (candidate + step > end) return undefined;
    if (candidate + step <= u.network) return { network: candidate, prefix: newPrefix };
    pos = Math.max(pos, uEnd);
  }
  const candidate = align(pos);
  return candidate + step <= end ? { network: candidate, prefix: newPrefix } : undefined;
}

/** Compare two ranges by network address, then prefix (for deterministic sorting). */
export function compareCidrs(a: Cidr | string, b: Cidr | string): number {
  const x = toCidr(a);
  const y = toCidr(b);
  return x.network - y.network || x.prefix - y.prefix;
}
