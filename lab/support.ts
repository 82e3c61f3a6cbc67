// The lab needs Linux and root (network namespaces, mounts, sshd on port 22).
export function assertLabSupported(): void {
  if (process.platform !== 'linux') {
    throw new Error(`hardway lab needs Linux (network, mount and UTS namespaces); this is ${process.platform}. Nothing was created.`);
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  if (uid !== 0) {
    throw new Error(`hardway lab needs root (it creates namespaces, a bridge and mounts); run it with sudo. Nothing was created.`);
  }
}
