// The model layer in one import. Pure: safe to use from Temporal workflow code.
export * from './types.js';
export * from './cidr.js';
export { DEFAULTS, ClusterFileSchema, type ClusterFileInput, allowedKeysAt, dnsLabelError } from './spec.js';
export {
  parseClusterFile,
  validateSpec,
  formatProblems,
  formatPath,
  didYouMean,
  editDistance,
  APISERVER_PORT,
  MAX_NODE_MASK_DIFF,
  MIN_SERVICE_PREFIX,
  type ParseResult,
} from './validate.js';
export { plan, allocatePodRanges, PlanError, ETCD_CLIENT_PORT, ETCD_PEER_PORT } from './plan.js';
export { buildCertificates, buildFiles, kubeconfigPathFor, CLUSTER_DOMAIN, CA_VALIDITY_DAYS, LEAF_VALIDITY_DAYS, type CertificateInput } from './certificates.js';
export { formatPlan, formatTable, wrapList } from './plan-format.js';
export { KUBELET_ROLES, runsKubelet, hasRole } from './roles.js';
export * from './paths.js';
