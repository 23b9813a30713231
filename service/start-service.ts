import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { buildApi, createLiveEvents, createReadiness, type Readiness } from '../api/index.ts'
import { type Broker, createBroker, createCommandRelay, deliveredCommandId } from '../broker/index.ts'
import type { Config } from '../config/index.ts'
import { type Clock, systemClock } from '../domain/index.ts'
import { createExternalBrokerIngest, createIngest, deviceTopicPrefix, shardOf } from '../ingest/index.ts'
import {
  createCustomerBook,
  createCustomerHistory,
  createDeliveryQueueCounts,
  createLinkSigner,
  createNotificationStore,
  createSurveyAnswers,
  createWebhookAdmin,
  notificationKeys,
  startNotifier,
} from '../notifier/index.ts'
import {
  createCommandStore,
  createDispatcher,
  createIncidentStore,
  createMaintenanceWindows,
  createRuleWorker,
  createTechnicianRoster,
  createTicketIntake,
  createTicketStore,
  ensureTicketIndexes,
  ruleKeys,
  startCommandExpiry,
} from '../rules/index.ts'
import { createFailedWorkLog, createReplicaWait, streamKeys } from '../streams/index.ts'
import { createLifecycle } from './lifecycle.ts'
import { provisionDevices } from './provision-devices.ts'
import { connectRedis } from './redis-connection.ts'
import { createDeploymentSweep } from './retention-sweep.ts'

export type RunningService = {
  /** Where the API and dashboard answer, when this process runs the api role. */
  httpUrl?: string
  /** The MQTT port bound, when this process runs the broker. */
  mqttPort?: number
  /** Where Redis is, for logs (no password). */
  redisWhere: string
  /** What a child process adds to its environment to reach the same Redis. */
  redisEnv: Record<string, string>
  /** Stops taking input, drains, closes Redis; false when something failed or the deadline passed. */
  close: (reason: string) => Promise<boolean>
  /** The checks /readyz runs, for a parent asking this process over IPC (the rule workers' child). */
  readiness: () => ReturnType<Readiness['check']>
  /** Something started beside the service (the rule workers' process): it closes first, within the deadline. */
  add: (name: string, close: () => Promise<void> | void) => void
}

/** Starts the roles this process runs, in dependency order; anything started is closed in reverse. */
export async function startService({
  config,
  log,
  clock = systemClock,
  readyWhen = {},
}: {
  config: Config
  log: Logger
  /** Where every role reads the time; tests pass one they move by hand. */
  clock?: Clock
  /** Readiness checks of what runs beside this process (the rule workers' child), by role. */
  readyWhen?: Record<string, () => Promise<boolean> | boolean>
}): Promise<RunningService> {
  const { settings, site } = config
  const lifecycle = createLifecycle({ log, timeoutMs: settings.shutdownTimeout })
  try {
    const connection = await connectRedis({
      settings,
      log: log.child({ part: 'redis' }),
      name: `vigie:${settings.redisPrefix}${settings.roles.join(',')}`,
    })
    if (connection.server) lifecycle.add('redis-server', connection.server.stop)
    lifecycle.add('redis', async () => {
      await connection.redis.quit()
    })
    const timelineCap = { maxEntries: settings.ticketTimelineMax, maxBytes: settings.ticketTimelineMaxBytes }
    const readiness = createReadiness()
    readiness.add('redis', async () => (await connection.redis.ping()) === 'PONG')
    for (const [role, check] of Object.entries(readyWhen)) readiness.add(role, check)

    // Ingest's own connection pipelines the writes of many devices into few round trips; the reading log
    // batches its appends itself, so they skip the auto-pipeline's extra Pipeline per tick.
    const ingestRedis = connection.redis.duplicate({
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: ['vigieAppendReadings'],
    })
    lifecycle.add('ingest-redis', async () => {
      await ingestRedis.quit()
    })
    // Issue 19: device commands, written by the API, published by the broker role, answered through ingest.
    const commands = createCommandStore({
      redis: connection.redis,
      keys: ruleKeys(settings.redisPrefix),
      topicOf: (device, name) => `${deviceTopicPrefix(device)}commands/${name}`,
      tickets: createTicketStore({
        redis: connection.redis,
        keys: ruleKeys(settings.redisPrefix),
        sla: site.sla,
        timelineCap,
      }),
      kept: settings.deviceCommandsKept,
      logger: log.child({ part: 'commands' }),
    })
    const ingest = createIngest({
      commandAnswers: (device, answer, at) => commands.answer(device, answer, at),
      redis: ingestRedis,
      settings,
      log: log.child({ part: 'ingest' }),
      clock,
      replicated: createReplicaWait({
        redis: ingestRedis,
        replicas: settings.redisReplicasAck,
        timeoutMs: settings.redisReplicasAckTimeout,
      }),
    })
    await provisionDevices({
      redis: connection.redis,
      registry: ingest.registry,
      devices: site.devices,
      leaseKey: ingest.keys.devicesProvisionLease,
      log: log.child({ part: 'devices' }),
    })
    // Before any role reads them: a deployment that predates the ticket indexes builds them once.
    await ensureTicketIndexes({
      redis: connection.redis,
      keys: ruleKeys(settings.redisPrefix),
      tickets: createTicketStore({
        redis: connection.redis,
        keys: ruleKeys(settings.redisPrefix),
        sla: site.sla,
      }),
      logger: log.child({ part: 'tickets' }),
    })

    let broker: Broker | undefined
    let mqttPort: number | undefined
    // How the broker role publishes a device command taken from the outbox, in either mode.
    let publishCommand: ((topic: string, payload: string) => Promise<void>) | undefined
    if (settings.roles.includes('broker') && settings.mqttExternalUrl) {
      // A fleet already on its own broker: ingest subscribes there, and vigie serves no MQTT itself.
      const external = createExternalBrokerIngest({
        url: settings.mqttExternalUrl,
        ingest,
        log: log.child({ part: 'external-broker' }),
        clock,
      })
      lifecycle.add('broker', external.close)
      await external.start()
      readiness.add('broker', () => external.isReady())
      publishCommand = async (topic, payload) => {
        await external.publish(topic, payload)
        // No device's PUBACK reaches vigie here: `sent` means the broker has the command (README).
        const device = topic.split('/')[1] ?? ''
        const id = deliveredCommandId(device, topic, Buffer.from(payload))
        if (id)
          await commands
            .markSent(device, id, clock.now())
            .catch((err: unknown) => log.warn({ err, commandId: id }, 'command delivery not recorded'))
      }
    } else if (settings.roles.includes('broker')) {
      broker = await createBroker({
        settings,
        mqttAccounts: site.mqttAccounts,
        ingest,
        log: log.child({ part: 'broker' }),
        clock,
        redis: connection.redis,
        onDelivered: (clientId, topic, payload) => {
          const id = deliveredCommandId(clientId, topic, payload)
          if (id)
            commands
              .markSent(clientId, id, clock.now())
              .catch((err: unknown) => log.warn({ err, commandId: id }, 'command delivery not recorded'))
        },
      })
      ;({ mqttPort } = await broker.listen())
      lifecycle.add('broker', broker.close)
      const running = broker
      readiness.add('broker', () => running.isReady())
      publishCommand = running.publish
    }
    if (publishCommand) {
      const relay = createCommandRelay({
        redis: connection.redis.duplicate(),
        outbox: ruleKeys(settings.redisPrefix).commandOutbox,
        publish: publishCommand,
        failedWork: createFailedWorkLog({ redis: connection.redis, keys: streamKeys(settings.redisPrefix) }),
        logger: log.child({ part: 'command-relay' }),
      })
      await relay.start()
      lifecycle.add('command-relay', relay.close)
    }
    if (settings.roles.includes('broker')) {
      const expiry = startCommandExpiry({
        commands,
        now: clock.now,
        logger: log.child({ part: 'command-expiry' }),
      })
      lifecycle.add('command-expiry', expiry.close)
    }

    if (settings.roles.includes('workers')) {
      // XREADGROUP blocks its connection, so the worker has one of its own.
      const workerRedis = connection.redis.duplicate()
      lifecycle.add('rules-redis', async () => {
        await workerRedis.quit()
      })
      const worker = createRuleWorker({
        redis: workerRedis,
        prefix: settings.redisPrefix,
        rules: site.rules,
        sites: site.sites,
        deviceOf: (id) => ingest.registry.get(id),
        log: {
          shards: settings.logShards,
          shardKey: ingest.keys.shard,
          shardOf: (id) => shardOf(id, settings.logShards),
          lastSeenKey: ingest.keys.lastSeen,
          devicesVersionKey: ingest.keys.devicesVersion,
        },
        logger: log.child({ part: 'rules' }),
        clock,
        technicians: site.technicians,
        dispatch: site.dispatch,
        sla: site.sla,
        autoResolveAfterClear: site.tickets.autoResolveAfterClear,
        timelineCap,
        leaseMs: settings.rulesLease,
      })
      worker.start()
      lifecycle.add('rules', worker.close)
      readiness.add('workers', () => worker.isReady())
      const sweep = createDeploymentSweep({
        redis: connection.redis,
        settings,
        tickets: worker.tickets,
        logger: log.child({ part: 'retention' }),
        now: clock.now,
      })
      sweep.start()
      lifecycle.add('retention', sweep.close)
    }

    if (settings.roles.includes('notifier')) {
      const keys = ruleKeys(settings.redisPrefix)
      const roster = createTechnicianRoster({ redis: connection.redis, keys, technicians: site.technicians })
      const notifier = await startNotifier({
        redis: connection.redis,
        settings,
        site,
        tickets: createTicketStore({ redis: connection.redis, keys, sla: site.sla, timelineCap }),
        technicianOf: (id) => roster.get(id),
        log: log.child({ part: 'notifier' }),
        clock,
      })
      lifecycle.add('notifier', notifier.close)
      readiness.add('notifier', () => notifier.isReady())
    }

    let httpUrl: string | undefined
    if (settings.roles.includes('api')) {
      const keys = ruleKeys(settings.redisPrefix)
      const tickets = createTicketStore({ redis: connection.redis, keys, sla: site.sla, timelineCap })
      const roster = createTechnicianRoster({ redis: connection.redis, keys, technicians: site.technicians })
      await roster.seed()
      const customers = createCustomerBook({
        redis: connection.redis,
        prefix: settings.redisPrefix,
        customers: site.customers,
      })
      await customers.seed()
      // XREAD blocks its connection: the live feed has one of its own.
      const live = createLiveEvents({
        redis: connection.redis.duplicate(),
        eventsKey: keys.events,
        log: log.child({ part: 'live' }),
      })
      live.start()
      lifecycle.add('live', live.close)
      const notifications = createNotificationStore({
        redis: connection.redis,
        keys: notificationKeys(settings.redisPrefix),
      })
      const failedWork = createFailedWorkLog({
        redis: connection.redis,
        keys: streamKeys(settings.redisPrefix),
      })
      const queueCounts = createDeliveryQueueCounts({
        redis: connection.redis,
        prefix: settings.redisPrefix,
      })
      lifecycle.add('queue-counts', queueCounts.close)
      const dispatcher = createDispatcher({
        redis: connection.redis,
        keys,
        tickets,
        roster,
        world: site,
        placeOf: async (id) => (await ingest.registry.get(id))?.location ?? null,
      })
      const webhooks = createWebhookAdmin({ redis: connection.redis, settings, webhooks: site.webhooks })
      lifecycle.add('webhooks', webhooks.close)
      const app = await buildApi({
        clock,
        live,
        metrics: {
          redis: connection.redis,
          statsKey: ingest.keys.stats,
          tickets,
          notifications,
          queueCounts: queueCounts.counts,
          failedWork: failedWork.counts,
          ...(settings.metricsToken ? { token: settings.metricsToken } : {}),
          ...(broker ? { mqtt: broker.figures } : {}),
        },
        limits: settings,
        rateLimitStore: { redis: connection.redis, prefix: settings.redisPrefix },
        log: log.child({ part: 'api' }),
        apiKeys: site.apiKeys,
        readiness,
        ingest,
        failedWork,
        world: site,
        incidents: createIncidentStore({ redis: connection.redis, keys }),
        tickets,
        roster,
        customers,
        maintenance: createMaintenanceWindows({ redis: connection.redis, keys, clock }),
        engage: {
          notifications,
          links: await createLinkSigner({
            redis: connection.redis,
            key: notificationKeys(settings.redisPrefix).linkSecret,
          }),
          surveys: createSurveyAnswers({
            redis: connection.redis,
            prefix: settings.redisPrefix,
            tickets,
            notifications,
            linkLifetimeMs: settings.surveyLinkLifetime,
          }),
          ...(settings.twilioAuthToken
            ? {
                twilio: {
                  authToken: settings.twilioAuthToken,
                  publicUrl: settings.publicUrl,
                  redis: connection.redis,
                  prefix: settings.redisPrefix,
                },
              }
            : {}),
        },
        dispatcher,
        intake: createTicketIntake({ keys, tickets, dispatcher, sla: site.sla }),
        customerHistory: createCustomerHistory({
          redis: connection.redis,
          keys: notificationKeys(settings.redisPrefix),
          notifications,
          tickets,
        }),
        webhooks,
        commands: { store: commands, catalogue: site.commands },
        ...(settings.adminKey ? { adminKey: settings.adminKey } : {}),
        ...(broker ? { mqttOverWebSocket: broker.handleWebSocket } : {}),
        // A quarter of the deadline: the notifier, the rules and Redis close after it.
        closeGraceMs: settings.shutdownTimeout / 4,
        replicated: createReplicaWait({
          redis: connection.redis,
          replicas: settings.redisReplicasAck,
          timeoutMs: settings.redisReplicasAckTimeout,
        }),
      })
      await app.listen({ port: settings.httpPort, host: settings.bindHost })
      lifecycle.add('http', () => app.close())
      readiness.add('api', () => app.server.listening)
      const { port } = app.server.address() as AddressInfo
      const host =
        settings.bindHost === '0.0.0.0' || settings.bindHost === '::' ? 'localhost' : settings.bindHost
      httpUrl = `http://${host}:${port}`
    }
    log.info({ roles: settings.roles, httpUrl, mqttPort, site: config.sitePath }, 'vigie started')
    return {
      httpUrl,
      mqttPort,
      redisWhere: connection.where,
      redisEnv: connection.childEnv,
      readiness: () => readiness.check(),
      close: lifecycle.shutdown,
      add: lifecycle.add,
    }
  } catch (error) {
    await lifecycle.shutdown('start failed')
    throw error
  }
}
