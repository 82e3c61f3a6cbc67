// Every rule id a Problem can carry (Problem.code): stable, machine-readable names for tests, tools and docs.
// Type only: no runtime code here.

/** The file itself: bytes, YAML syntax, top-level shape. */
export type FileRuleId = 'gzip-file' | 'utf16-file' | 'binary-file' | 'yaml-syntax' | 'yaml-warning' | 'empty-file' | 'not-a-mapping';

/** One field on its own: presence, type, format (model/field-checks.ts, model/zod-issues.ts). */
export type FieldRuleId =
  | 'unknown-field'
  | 'required'
  | 'wrong-type'
  | 'invalid-value'
  | 'invalid-name'
  | 'invalid-address'
  | 'invalid-cidr'
  | 'invalid-port'
  | 'invalid-version'
  | 'invalid-url'
  | 'invalid-path'
  | 'invalid-image'
  | 'invalid-san'
  | 'empty';

/** Cross-field rules (model/rules/). */
export type CrossFieldRuleId =
  // hosts
  | 'no-hosts'
  | 'duplicate-name'
  | 'duplicate-address'
  | 'address-outside-infrastructure'
  | 'address-reserved'
  | 'address-in-pod-range'
  | 'address-in-service-range'
  | 'address-virtualbox-nat'
  | 'address-loopback'
  | 'address-unspecified'
  // roles
  | 'empty-roles'
  | 'duplicate-role'
  | 'no-ca'
  | 'multiple-ca'
  | 'no-etcd'
  | 'etcd-even'
  | 'etcd-single'
  | 'no-loadbalancer'
  | 'multiple-loadbalancers'
  | 'loadbalancer-conflict'
  | 'port-conflict'
  | 'no-controlplane'
  | 'no-worker'
  | 'multiple-admins'
  | 'ca-shared'
  // networks
  | 'ranges-overlap'
  | 'node-mask-range'
  | 'node-mask-too-fine'
  | 'pod-range-too-small'
  | 'service-range-too-large'
  | 'service-range-too-small'
  | 'dns-outside-service-range'
  | 'dns-is-network-address'
  | 'dns-is-kubernetes-service'
  | 'dns-is-broadcast'
  // binaries
  | 'mirror-required'
  | 'directory-required'
  | 'unused-field'
  | 'unsupported-version'
  // ssh
  | 'invalid-ssh-user'
  | 'identity-file-is-public-key'
  | 'unknown-fingerprint-host'
  | 'invalid-fingerprint';

/** Changes to a running cluster that the engine cannot converge yet (model/spec-change.ts). */
export type SpecChangeRuleId =
  | 'cluster-name-changed'
  | 'networks-changed'
  | 'etcd-members-changed'
  | 'established-host-removed'
  | 'established-host-address-changed'
  | 'established-host-roles-changed';

export type RuleId = FileRuleId | FieldRuleId | CrossFieldRuleId | SpecChangeRuleId | 'internal';
