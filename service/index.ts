export { findFreePort } from './free-port.ts'
export { type ServiceKeys, serviceKeys } from './keys.ts'
export { createLifecycle, type Lifecycle } from './lifecycle.ts'
export { createLogger, type Logger, type LoggerOptions } from './logger.ts'
export {
  connectRedis,
  describeTarget,
  openClient,
  type RedisConnection,
  type RedisTarget,
} from './redis-connection.ts'
export { type RedisSentinelSet, startRedisSentinelSet } from './redis-sentinel-set.ts'
export { type RedisServer, type RedisServerOptions, startRedisServer } from './redis-server.ts'
export { createDeploymentSweep } from './retention-sweep.ts'
export { type RunningService, startService } from './start-service.ts'
