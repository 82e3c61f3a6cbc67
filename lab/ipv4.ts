// Just enough IPv4 arithmetic for the lab (pure).

export function parseIp(s: string): number {
  const parts = s.trim().split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${s}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${s}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  network: number;
  prefix: number;
}

export function parseCidr(s: string): Cidr {
  const [ip, len] = s.split('/');
  const prefix = Number(len);
  if (!ip || len === undefined || !/^\d{1,2}$/.test(len) || prefix > 32) throw new Error(`not an IPv4 CIDR: ${s}`);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(parseIp(ip) / size) * size;
  return { network, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.network)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  const size = 2 ** (32 - c.prefix);
  return ip >= c.network && ip < c.network + size;
}

/** The /24 around an address, e.g. 192.168.56.11 -> 192.168.56.0/24. */
export function slash24(ip: string): Cidr {
  return parseCidr(`${ip}/24`);
}
