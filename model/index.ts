// The model layer in one import. Pure: safe to use from Temporal workflow code, except validate.ts,
// zod-issues.ts, yaml-positions.ts and spec.ts (zod, yaml), which only the command line needs.
export * from './types.js';
export * from './cidr.js';
export { DEFAULTS } from './defaults.js';
export { ClusterFileSchema, type ClusterFileInput, allowedKeysAt } from './spec.js';
export { dnsLabelError, suggestVersion, type FieldError } from './field-checks.js';
export { parseClusterFile, type ParseResult } from './validate.js';
export { checkSpec, type CheckResult, type ValidSpec, type ParsedNetworks } from './check.js';
export { formatProblems, MAX_PROBLEMS_SHOWN } from './problem-format.js';
export { refusedChanges } from './spec-change.js';
export { encodingProblem } from './file-encoding.js';
export { formatPath, parsePath } from './field-path.js';
export { didYouMean, editDistance } from './did-you-mean.js';
export { quote, EXCERPT_LENGTH } from './excerpt.js';
export { APISERVER_PORT } from './rules/roles.js';
export { MAX_NODE_MASK_DIFF, MIN_SERVICE_PREFIX, MAX_SERVICE_PREFIX } from './rules/networks.js';
export { VIRTUALBOX_NAT_NETWORK } from './rules/hosts.js';
export { plan, allocatePodRanges, PlanError, ETCD_CLIENT_PORT, ETCD_PEER_PORT } from './plan.js';
export {
  buildCertificates,
  buildFiles,
  kubeconfigPathFor,
  CLUSTER_DOMAIN,
  CA_VALIDITY_DAYS,
  LEAF_VALIDITY_DAYS,
  type CertificateInput,
} from './certificates.js';
export { formatPlan, formatTable, wrapList } from './plan-format.js';
export { KUBELET_ROLES, runsKubelet, hasRole } from './roles.js';
export * from './paths.js';
