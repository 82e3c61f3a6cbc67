// The contract between the cluster workflow and its activities. Types only: the workflow imports nothing else
// from activities/. Inputs and results are public data: never a private key, token or key material.
import type { ClusterPlan } from '../model/types.js';

export interface StepReport {
  host: string;
  /** Human-readable list of what changed ("wrote /etc/hosts", "restarted etcd"); empty on a no-op. */
  changed: string[];
  /** Observations worth showing (warnings, facts). */
  notes: string[];
  /** The attempt that succeeded (1 = first try). */
  attempt: number;
}

export interface HostFacts {
  os: string;
  arch: string;
  memoryMiB: number;
  /** The NIC that holds the host's infrastructure address: every service binds and advertises there. */
  infraInterface: string;
  /** The NIC of the default route, and its address. */
  defaultRouteInterface?: string;
  defaultRouteAddress?: string;
  /** The default route leaves through another NIC than the infrastructure one (the Vagrant/VirtualBox trap). */
  defaultNicIsNotInfra: boolean;
}

export interface PreflightReport extends StepReport {
  facts: HostFacts;
}

/** Every activity takes the plan and the name of the host (or cluster object) it converges. */
export interface ClusterActivities {
  preflight(plan: ClusterPlan, host: string): Promise<PreflightReport>;
  hostsFile(plan: ClusterPlan, host: string): Promise<StepReport>;
  certificateAuthority(plan: ClusterPlan): Promise<StepReport>;
  hostCertificates(plan: ClusterPlan, host: string): Promise<StepReport>;
  etcdMember(plan: ClusterPlan, host: string): Promise<StepReport>;
  etcdQuorum(plan: ClusterPlan): Promise<StepReport>;
  loadBalancer(plan: ClusterPlan, host: string): Promise<StepReport>;
}

/** Error types that retrying cannot fix: the message says what the operator must change. */
export const NON_RETRYABLE = [
  'ConfigurationError',
  'HostKeyMismatch',
  'HostKeyUnknown',
  'AuthenticationFailed',
  'PreflightFailed',
] as const;
