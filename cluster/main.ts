// `npm run cluster`: issue 17's deployment on this machine. The only cluster file that reads process.env.
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { createLogger } from '../service/index.ts'
import { startCluster } from './start-cluster.ts'

const usage = `Usage: npm run cluster [-- --nodes N --mqtt-port P --http-port P --dir DIR]

Starts, on this machine: Redis with two replicas and three Sentinels, N vigie nodes (default 2) with
every role, and HAProxy in front of them on the MQTT port (default 1883) and the HTTP port (default
8080), all on 127.0.0.1. Prints where everything listens; Ctrl-C stops them all. The site file is
VIGIE_CONFIG's (default: the demo site); the data (Redis, each node's) goes under --dir (default
./data/cluster), each node's log to <dir>/node-N.log.`

const port = z.coerce.number().int().min(1).max(65_535)
const flagsSchema = z.object({
  nodes: z.coerce.number().int().min(1).max(8).default(2),
  'mqtt-port': port.default(1883),
  'http-port': port.default(8080),
  dir: z.string().min(1).default('./data/cluster'),
})

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'http-port': { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean' },
    },
  })
  if (values.help) return console.log(usage)
  const { help: _help, ...given } = values
  const flags = flagsSchema.safeParse(given)
  if (!flags.success) {
    console.error(
      `vigie cluster: ${flags.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n\n${usage}`,
    )
    process.exit(2)
  }
  const { nodes, dir } = flags.data
  const log = createLogger({ level: 'warn', pretty: process.stdout.isTTY === true })
  const adminKey = process.env.VIGIE_ADMIN_KEY ?? randomBytes(24).toString('base64url')
  console.log(`starting Redis (a master, two replicas, three Sentinels), ${nodes} vigie nodes and HAProxy…`)
  const cluster = await startCluster({
    dir: resolve(dir),
    log,
    baseEnv: process.env,
    nodes,
    mqttPort: flags.data['mqtt-port'],
    httpPort: flags.data['http-port'],
    adminKey,
  }).catch((error: unknown) => {
    console.error(`vigie cluster: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  })
  const master = await cluster.redis.masterPort()
  const lines = [
    '',
    'vigie cluster is running (all on 127.0.0.1):',
    `  devices (MQTT, through HAProxy):  mqtt://127.0.0.1:${cluster.haproxy.mqttPort}`,
    `  API and console (through HAProxy): http://localhost:${cluster.haproxy.httpPort}/#key=${adminKey}`,
    ...cluster.nodes.map(
      (node) =>
        `  ${node.name}: HTTP ${node.httpPort}, MQTT ${node.mqttPort}, pid ${node.pid}, log ${node.logPath}`,
    ),
    ...cluster.redis.servers.map(
      (server) =>
        `  redis-server ${server.port}${server.port === master ? ' (master)' : ' (replica)'}, pid ${server.pid}`,
    ),
    `  Sentinels: ${cluster.redis.sentinels} (master name "${cluster.redis.name}")`,
    `  Redis password: ${cluster.env.REDIS_PASSWORD}`,
    `  HAProxy configuration: ${cluster.haproxy.configPath}`,
    `  data: ${resolve(dir)}; the Redis files under ${join(resolve(dir), 'redis')}`,
    '',
    'Try a failover: kill -9 the master, or one node; Ctrl-C stops everything.',
  ]
  console.log(lines.join('\n'))
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130)
      stopping = true
      console.log(`\nstopping (${signal}): HAProxy, the nodes, then Redis…`)
      void cluster.stop().then(() => process.exit(0))
    })
  }
}

await main()
