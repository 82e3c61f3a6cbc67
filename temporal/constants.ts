// Names shared by the client, the worker and the workflows. Pure.
export const TASK_QUEUE = 'hardway';
export const workflowIdFor = (cluster: string): string => `cluster-${cluster}`;
