import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { VigieError } from '../domain/index.ts'
import type { NotificationStore } from '../notifier/index.ts'
import type { TicketStore } from '../rules/index.ts'
import { registerFailedWorkGauge } from './failed-work-metrics.ts'
import type { AuthFailures } from './rate-limits.ts'

export type MetricsSources = {
  redis: Redis
  /** The ingest totals hash (readings stored, dead letters). */
  statsKey: string
  tickets?: TicketStore
  notifications?: NotificationStore
  /** Jobs of the delivery queue by state (waiting, delayed, active, failed). */
  queueCounts?: () => Promise<Record<string, number>>
  /** METRICS_TOKEN: when given, the route asks for `Authorization: Bearer <token>`. */
  token?: string
  /** This process's MQTT broker, when it runs one. */
  mqtt?: () => MqttFigures
  /** Stream entries given up, per source (issue 16). */
  failedWork?: () => Promise<Record<string, number>>
}

/** The broker's own figures: what overload and hostile clients show up in first. */
export type MqttFigures = {
  clients: number
  backlog: number
  loginsPending: number
  slowDropped: number
  proxyRefused: number
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** Compares digests, so neither the time taken nor a length difference tells how much of a guess was right. */
function createTokenCheck(token: string) {
  const expected = sha256(token)
  return (authorization: string | undefined) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (!match?.[1])
      throw new VigieError({
        code: 'AUTH_MISSING_KEY',
        message: 'A token is required: Authorization: Bearer <token>',
      })
    if (!timingSafeEqual(expected, sha256(match[1])))
      throw new VigieError({ code: 'AUTH_INVALID_KEY', message: 'The metrics token is not valid' })
  }
}

/**
 * DESIGN.md § HTTP API: `GET /metrics` for Prometheus. Totals come from Redis, so every process of a
 * deployment answers the same; the process's own figures (event-loop lag, memory) are its own.
 */
export function registerMetricsRoutes(
  app: FastifyInstance,
  sources: MetricsSources,
  failures: AuthFailures,
): void {
  // A registry of this app's, not prom-client's global one.
  const register = new Registry()
  collectDefaultMetrics({ register, prefix: 'vigie_process_' })
  const { redis, statsKey, tickets, notifications, queueCounts, token, mqtt } = sources

  new Gauge({
    name: 'vigie_readings_stored_total',
    help: 'Readings stored in the log since the deployment began',
    registers: [register],
    async collect() {
      this.set(Number((await redis.hget(statsKey, 'readings')) ?? 0))
    },
  })
  new Gauge({
    name: 'vigie_dead_letters_total',
    help: 'Messages kept as bad input since the deployment began',
    registers: [register],
    async collect() {
      this.set(Number((await redis.hget(statsKey, 'dead-letters')) ?? 0))
    },
  })
  if (tickets)
    new Gauge({
      name: 'vigie_open_tickets',
      help: 'Unfinished tickets by severity',
      labelNames: ['severity'],
      registers: [register],
      async collect() {
        this.reset()
        for (const severity of ['critical', 'major', 'minor', 'info']) this.set({ severity }, 0)
        for (const [field, count] of Object.entries(await tickets.counts()))
          if (field.startsWith('open:')) this.set({ severity: field.slice('open:'.length) }, count)
      },
    })
  if (notifications)
    new Gauge({
      name: 'vigie_notification_outcomes_total',
      help: 'Notification outcomes by status (sent, delivered, failed, suppressed)',
      labelNames: ['status'],
      registers: [register],
      async collect() {
        for (const [status, count] of Object.entries(await notifications.outcomes()))
          this.set({ status }, count)
      },
    })
  if (queueCounts)
    new Gauge({
      name: 'vigie_delivery_queue_jobs',
      help: 'Jobs of the delivery queue by state',
      labelNames: ['state'],
      registers: [register],
      async collect() {
        for (const [state, count] of Object.entries(await queueCounts())) this.set({ state }, count)
      },
    })
  if (sources.failedWork) registerFailedWorkGauge(register, sources.failedWork)

  if (mqtt) {
    const figures: [keyof MqttFigures, string, string][] = [
      ['clients', 'vigie_mqtt_clients', 'MQTT clients connected to this process'],
      ['backlog', 'vigie_mqtt_backlog_messages', 'Messages waiting for delivery in this broker'],
      ['loginsPending', 'vigie_mqtt_logins_pending', 'MQTT logins being checked or held before their answer'],
      ['slowDropped', 'vigie_mqtt_slow_clients_dropped_total', 'Clients dropped for being too far behind'],
      [
        'proxyRefused',
        'vigie_mqtt_proxy_header_refused_total',
        'Connections closed for want of a valid PROXY protocol header',
      ],
    ]
    for (const [field, name, help] of figures)
      new Gauge({
        name,
        help,
        registers: [register],
        collect() {
          this.set(mqtt()[field])
        },
      })
  }

  const checkToken = token ? createTokenCheck(token) : undefined
  app.get(
    '/metrics',
    {
      // Public unless METRICS_TOKEN is set; a wrong token counts as a failed key check.
      config: { access: 'public' },
      schema: { hide: true },
      onRequest: async (request, reply) => {
        if (!checkToken) return
        await failures.refuseIfBlocked(request, reply)
        await failures.check(request, () => checkToken(request.headers.authorization))
      },
    },
    async (_request, reply) => reply.type(register.contentType).send(await register.metrics()),
  )
}
