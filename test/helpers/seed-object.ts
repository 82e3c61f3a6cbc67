// The seed's ten hosts as a loose object (what a YAML file parses to), for tests that break it on purpose.
export type Obj = Record<string, any>;

export const host = (name: string, last: number, roles: string[]): Obj => ({ name, address: `192.168.56.${last}`, roles });

/** The seed's ten hosts on 192.168.56.0/24; every other field takes its default. */
export function seed(): Obj {
  return {
    name: 'lab',
    hosts: [
      host('ca', 10, ['ca']),
      host('etcd-1', 11, ['etcd']),
      host('etcd-2', 12, ['etcd']),
      host('etcd-3', 13, ['etcd']),
      host('lb', 20, ['loadbalancer']),
      host('cp-1', 21, ['controlplane']),
      host('cp-2', 22, ['controlplane']),
      host('worker-1', 31, ['worker']),
      host('worker-2', 32, ['worker']),
      host('admin', 40, ['admin']),
    ],
    networks: { infrastructure: '192.168.56.0/24' },
  };
}
