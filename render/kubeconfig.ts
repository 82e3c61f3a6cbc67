// Kubeconfig files that name their client certificate and key by path: the key stays in its own 0600 file on the
// host that made it, and the kubeconfig itself holds nothing secret. Pure.
import { kubeconfigHeader } from '../model/paths.js';

export interface KubeconfigInput {
  cluster: string;
  /** The user's name in the file (its certificate's common name says who it is to the API server). */
  user: string;
  server: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** One cluster, one user, one context named "<user>@<cluster>", current. */
function kubeconfigText(o: {
  header: string;
  cluster: string;
  server: string;
  clusterCa: [key: string, value: string];
  userName: string;
  userFields: [key: string, value: string][];
  context: string;
}): string {
  return [
    o.header,
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${JSON.stringify(o.cluster)}`,
    '    cluster:',
    `      server: ${JSON.stringify(o.server)}`,
    `      ${o.clusterCa[0]}: ${o.clusterCa[1]}`,
    'users:',
    `  - name: ${JSON.stringify(o.userName)}`,
    '    user:',
    ...o.userFields.map(([k, v]) => `      ${k}: ${v}`),
    'contexts:',
    `  - name: ${JSON.stringify(o.context)}`,
    '    context:',
    `      cluster: ${JSON.stringify(o.cluster)}`,
    `      user: ${JSON.stringify(o.userName)}`,
    `current-context: ${JSON.stringify(o.context)}`,
    '',
  ].join('\n');
}

export function renderKubeconfig(k: KubeconfigInput): string {
  return kubeconfigText({
    header: `${kubeconfigHeader(k.cluster)}: ${k.user} at ${k.server}. Changes here are overwritten.`,
    cluster: k.cluster,
    server: k.server,
    clusterCa: ['certificate-authority', JSON.stringify(k.caPath)],
    userName: k.user,
    userFields: [
      ['client-certificate', JSON.stringify(k.certPath)],
      ['client-key', JSON.stringify(k.keyPath)],
    ],
    context: `${k.user}@${k.cluster}`,
  });
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
  const name = `${k.user}@${k.cluster}`;
  return kubeconfigText({
    header: `# hardway kubeconfig for cluster ${k.cluster} (${k.user} at ${k.server}). It holds a private key: keep it 0600.`,
    cluster: k.cluster,
    server: k.server,
    clusterCa: ['certificate-authority-data', b64(k.ca)],
    userName: name,
    userFields: [
      ['client-certificate-data', b64(k.cert)],
      ['client-key-data', b64(k.key)],
    ],
    context: name,
  });
}
