// Custom search attributes: find a cluster's workflow by name and by the phase it is in.
// Pure (safe to import from workflow code).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CLUSTER_NAME = defineSearchAttributeKey('HardwayCluster', SearchAttributeType.KEYWORD);
export const CLUSTER_PHASE = defineSearchAttributeKey('HardwayPhase', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [CLUSTER_NAME, CLUSTER_PHASE];
