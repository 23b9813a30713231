// The entry point: the only file that reads process.env and process.argv.
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import {
  type Config,
  ConfigError,
  demoSiteExposure,
  demoSiteNotice,
  demoSitePath,
  loadConfig,
  takesConnections,
} from '../config/index.ts'
import { systemClock } from '../domain/index.ts'
import { createLogger } from './logger.ts'
import type { RunningService } from './start-service.ts'
import { readinessQuestionSchema, startWorkersChild } from './workers-child.ts'

const usage = `Usage: npm start [-- --roles broker,api,workers]
       npm run demo
       npm run vigie -- <command>

Commands:
  start          run the service (the default); --roles runs a subset, --demo uses the demo site
  check-config   validate the settings and the site file, print a summary, and exit
  devices add <id> --kind <kind> --site <site> [--zone <zone>] [--name "<name>"]
                 provision a device and print its MQTT secret, shown this once only
  devices list   print every provisioned device
  rules test --readings <file.ndjson> [--until <time>] [--json]
                 replay readings through the rules and list the incidents that would open
  history generate [--tickets N] [--devices N] [--seed S]
                 write a reproducible year of a big airport into Redis (see history generate --help)
  help           this text

Settings come from the environment and from the site file named by VIGIE_CONFIG (see README).`

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  // Each command imports only what it runs: a CLI command skips the service's fastify, BullMQ and Twilio.
  // The devices command has flags of its own, so it parses its arguments itself.
  if (args[0] === 'devices') {
    const { runDevicesCommand } = await import('./cli-devices.ts')
    process.exit(
      await runDevicesCommand({ args: args.slice(1), readConfig: () => readConfig(process.env, undefined) }),
    )
  }
  if (args[0] === 'rules') {
    const { runRulesCommand } = await import('./cli-rules.ts')
    process.exit(
      await runRulesCommand({ args: args.slice(1), readConfig: () => readConfig(process.env, undefined) }),
    )
  }
  if (args[0] === 'history') {
    const { runHistoryCommand } = await import('./cli-history.ts')
    process.exit(
      await runHistoryCommand({ args: args.slice(1), readConfig: () => readConfig(process.env, undefined) }),
    )
  }
  const { values, positionals } = parseArgs({
    args,
    options: {
      roles: { type: 'string' },
      demo: { type: 'boolean', default: false },
      help: { type: 'boolean' },
    },
    allowPositionals: true,
  })
  const command = values.help ? 'help' : (positionals[0] ?? 'start')
  if (command === 'help') return console.log(usage)
  if (command !== 'start' && command !== 'check-config') {
    console.error(`Unknown command "${command}".\n\n${usage}`)
    process.exit(2)
  }

  const env = values.demo ? { ...process.env, VIGIE_CONFIG: demoSitePath } : process.env
  const config = readConfig(env, values.roles)
  const exposure = demoSiteExposure(config, { demoAsked: values.demo })
  if (exposure) refuse(new ConfigError({ problems: [exposure] }))
  if (command === 'check-config') return printSummary(config)
  if (config.demoSite && !values.demo && takesConnections(config.settings)) {
    console.error(demoSiteNotice(config.settings))
  }

  // The demo needs a way into the API; without a configured key it makes one for this run only.
  const demoKey = values.demo && !config.settings.adminKey ? randomBytes(24).toString('base64url') : undefined
  if (demoKey) config.settings.adminKey = demoKey

  const log = createLogger({ level: config.settings.logLevel, pretty: process.stdout.isTTY === true })
  let service: RunningService | undefined
  let closing = false
  // A signal during start-up is kept and honoured once everything started can be closed in order.
  let pending: { reason: string; code: number } | undefined
  const stop = async (reason: string, code: number) => {
    if (closing) return
    if (!service) {
      pending ??= { reason, code }
      return
    }
    closing = true
    const clean = await service.close(reason)
    process.exit(clean ? code : 1)
  }
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught error')
    void stop('uncaught error', 1)
  })
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled promise rejection')
    void stop('unhandled promise rejection', 1)
  })
  // Only a second signal means "now": the workers' process gets a Ctrl-C's SIGINT after its parent's stop.
  let signalled = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) process.exit(130)
      signalled = true
      void stop(signal, 0)
    })
  }
  // Started by another vigie process (the rule workers' child): when that one is gone, so is this one.
  process.on('disconnect', () => void stop('parent process gone', 0))
  // ...and it answers that parent's /readyz for the roles it runs; not ready until started.
  process.on('message', (message) => {
    const question = readinessQuestionSchema.safeParse(message)
    if (!question.success || !process.send) return
    const { id } = question.data
    void (service?.readiness() ?? Promise.resolve({ ready: false }))
      .then(({ ready }) => process.send?.({ type: 'readiness', id, ready }))
      .catch(() => process.send?.({ type: 'readiness', id, ready: false }))
  })

  // With every role in one start, the rule workers take the second core in a child process.
  const { roles, workersProcess } = config.settings
  const splitWorkers =
    command === 'start' &&
    roles.includes('workers') &&
    roles.length > 1 &&
    (workersProcess === 'yes' || (workersProcess === 'auto' && availableParallelism() > 1))
  if (splitWorkers) config.settings.roles = roles.filter((role) => role !== 'workers')
  const startWorkers = (redisEnv: Record<string, string>) =>
    startWorkersChild({
      env,
      redisEnv,
      log: log.child({ part: 'workers' }),
      // Half the deadline: the rest of the service, its Redis last, still stops in time.
      stopTimeoutMs: config.settings.shutdownTimeout / 2,
    })
  // On a Redis the settings name, the child starts beside this process, before its imports (issue 17).
  let workers =
    splitWorkers && (config.settings.redisUrl || config.settings.redisSentinels)
      ? startWorkers({})
      : undefined
  const { startService } = await import('./start-service.ts')
  // The rule workers' child process comes through here too: every process runs on the system clock.
  service = await startService({
    config,
    log,
    clock: systemClock,
    // Not ready until the child's workers are (issue 17): a node that says "ready" evaluates readings.
    readyWhen: splitWorkers ? { workers: async () => (await workers?.isReady()) ?? false } : {},
  }).catch((err: unknown) => {
    log.fatal({ err, hint: hintFor(err) }, 'start failed')
    process.exit(1)
  })
  if (splitWorkers) {
    workers ??= startWorkers(service.redisEnv)
    // Added last, so closed first: the service's close may stop the Redis the workers use.
    service.add('workers-process', workers.close)
  }
  if (pending) return stop(pending.reason, pending.code)
  if (service.httpUrl) {
    // The key rides in the fragment, which the browser never sends: the dashboard opens signed in.
    const key = demoKey
      ? `\n  dashboard, signed in for this run: ${service.httpUrl}/#key=${demoKey}\n  admin API key for this run: ${demoKey}`
      : `\n  dashboard: ${service.httpUrl}/ (sign in with an API key)`
    console.log(`\nvigie is running: API at ${service.httpUrl}  (API docs: ${service.httpUrl}/docs)${key}\n`)
  }
}

function readConfig(env: NodeJS.ProcessEnv, roles: string | undefined): Config {
  try {
    return loadConfig({ env, ...(roles ? { flags: { roles: { value: roles, flag: '--roles' } } } : {}) })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    refuse(error)
  }
}

function refuse(error: ConfigError): never {
  console.error(`vigie: ${error.message}`)
  process.exit(2)
}

function printSummary({ site, settings, sitePath }: Config): void {
  const count = (label: string, items: unknown[]) => `${items.length} ${label}`
  console.log(`${sitePath} is valid:`)
  console.log(
    `  ${[
      count('sites', site.sites),
      count(
        'zones',
        site.sites.flatMap((s) => s.zones),
      ),
      count('devices', site.devices),
      count('technicians', site.technicians),
      count('customers', site.customers),
      count('rules', site.rules),
    ].join(', ')}`,
  )
  console.log(`  roles ${settings.roles.join(',')}; HTTP ${settings.httpPort}; MQTT ${settings.mqttPort}`)
}

function hintFor(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EADDRINUSE') return 'a port is taken: set HTTP_PORT / MQTT_PORT to free ones'
  if (code === 'EACCES') return 'no permission to listen on that port: use one above 1024'
  return undefined
}

await main()
