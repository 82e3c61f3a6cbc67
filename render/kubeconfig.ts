// Kubeconfig files that name their client certificate and key by path: the key stays in its own 0600 file on the
// host that made it, and the kubeconfig itself holds nothing secret. Pure.

export interface KubeconfigInput {
  cluster: string;
  /** The user's name in the file (its certificate's common name says who it is to the API server). */
  user: string;
  server: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

export function renderKubeconfig(k: KubeconfigInput): string {
  return [
    `# Written by hardway for cluster ${k.cluster}: ${k.user} at ${k.server}. Changes here are overwritten.`,
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${JSON.stringify(k.cluster)}`,
    '    cluster:',
    `      server: ${JSON.stringify(k.server)}`,
    `      certificate-authority: ${JSON.stringify(k.caPath)}`,
    'users:',
    `  - name: ${JSON.stringify(k.user)}`,
    '    user:',
    `      client-certificate: ${JSON.stringify(k.certPath)}`,
    `      client-key: ${JSON.stringify(k.keyPath)}`,
    'contexts:',
    `  - name: ${JSON.stringify(`${k.user}@${k.cluster}`)}`,
    '    context:',
    `      cluster: ${JSON.stringify(k.cluster)}`,
    `      user: ${JSON.stringify(k.user)}`,
    `current-context: ${JSON.stringify(`${k.user}@${k.cluster}`)}`,
    '',
  ].join('\n');
}

/** A kubeconfig for another machine (the operator's workstation): the certificates and the key inline. */
export function renderEmbeddedKubeconfig(k: {
  cluster: string;
  user: string;
  server: string;
  ca: string;
  cert: string;
  key: string;
}): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    `# hardway kubeconfig for cluster ${k.cluster} (${k.user} at ${k.server}). It holds a private key: keep it 0600.`,
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${JSON.stringify(k.cluster)}`,
    '    cluster:',
    `      server: ${JSON.stringify(k.server)}`,
    `      certificate-authority-data: ${b64(k.ca)}`,
    'users:',
    `  - name: ${JSON.stringify(`${k.user}@${k.cluster}`)}`,
    '    user:',
    `      client-certificate-data: ${b64(k.cert)}`,
    `      client-key-data: ${b64(k.key)}`,
    'contexts:',
    `  - name: ${JSON.stringify(`${k.user}@${k.cluster}`)}`,
    '    context:',
    `      cluster: ${JSON.stringify(k.cluster)}`,
    `      user: ${JSON.stringify(`${k.user}@${k.cluster}`)}`,
    `current-context: ${JSON.stringify(`${k.user}@${k.cluster}`)}`,
    '',
  ].join('\n');
}
