// The environment of `temporal-server start` without a config file: the server then renders its own embedded
// config template from these variables, exactly as the temporalio/server image does (docker-compose.temporal.yml
// sets the same ones). Pure.

export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

export const SERVER_PORT_NAMES: readonly (keyof TemporalServerPorts)[] = [
  'frontend',
  'frontendHttp',
  'frontendMembership',
  'history',
  'historyMembership',
  'matching',
  'matchingMembership',
  'worker',
  'workerMembership',
];

export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Both stores (default and visibility) on PostgreSQL with the postgres12 plugin, every service on 127.0.0.1. */
export function temporalServerEnv(
  db: TemporalDatabase,
  ports: TemporalServerPorts,
  dynamicConfigFile: string,
  historyShards = 4,
): Record<string, string> {
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: db.host,
    DB_PORT: String(db.port),
    POSTGRES_USER: db.user,
    POSTGRES_PWD: db.password,
    DBNAME: 'temporal',
    VISIBILITY_DBNAME: 'temporal_visibility',
    NUM_HISTORY_SHARDS: String(historyShards),
    BIND_ON_IP: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile,
    LOG_LEVEL: 'warn',
  };
}

/**
 * The dynamic configuration file the server requires (it refuses to start without one): a search attribute just
 * added is usable at once. docker-compose.temporal.yml writes the same setting.
 */
export const DYNAMIC_CONFIG = 'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n';
