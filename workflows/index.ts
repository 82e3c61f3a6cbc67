// Entry point of the workflow bundle: every workflow type the worker registers.
export { clusterWorkflow } from './cluster.js';
export type { ClusterWorkflowInput, CarriedState } from './cluster.js';
