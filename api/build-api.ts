import type { IncomingMessage } from 'node:http'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import type { ApiKey, CommandCatalogue, SiteFile } from '../config/index.ts'
import { registerConsoleRoutes } from '../console/index.ts'
import type { Clock } from '../domain/index.ts'
import type { Ingest } from '../ingest/index.ts'
import type {
  CustomerBook,
  CustomerHistory,
  LinkSigner,
  NotificationStore,
  SurveyAnswers,
  WebhookAdmin,
} from '../notifier/index.ts'
import type {
  CommandStore,
  Dispatcher,
  IncidentStore,
  MaintenanceWindows,
  TechnicianRoster,
  TicketIntake,
  TicketStore,
} from '../rules/index.ts'
import type { FailedWorkLog } from '../streams/index.ts'
import { keyOfWebSocket, registerAccessControl } from './access.ts'
import { registerAnswerHeaders } from './answer-headers.ts'
import { createApiKeyVerifier } from './api-key-auth.ts'
import { registerCloseGrace } from './close-grace.ts'
import { createCommandSender } from './command-sender.ts'
import { registerCustomerHistoryRoutes } from './customer-history.ts'
import { registerCustomerRoutes } from './customer-routes.ts'
import { registerDeviceCommandRoutes } from './device-commands.ts'
import { registerDeviceRoutes } from './device-routes.ts'
import { registerDeviceSeriesRoutes } from './device-series-routes.ts'
import { registerErrorHandling } from './error-handler.ts'
import { registerFailedWorkRoutes } from './failed-work-routes.ts'
import { registerHealthRoutes } from './health-routes.ts'
import { type ApiLimits, defaultApiLimits, httpServerOptions } from './http-limits.ts'
import { registerIncidentRoutes } from './incident-routes.ts'
import { registerDailyKpiRoutes } from './kpi-daily-routes.ts'
import { registerKpiRoutes } from './kpi-routes.ts'
import type { LiveEvents } from './live-events.ts'
import { registerMaintenanceRoutes } from './maintenance-routes.ts'
import { type MetricsSources, registerMetricsRoutes } from './metrics-routes.ts'
import { registerNotificationRoutes } from './notification-routes.ts'
import { type RateLimitStore, registerRateLimits } from './rate-limits.ts'
import type { Readiness } from './readiness.ts'
import { registerReplicatedWrites } from './replicated-writes.ts'
import { registerRequestLog } from './request-log.ts'
import { registerRuleRoutes } from './rule-routes.ts'
import { registerSiteRoutes } from './site-routes.ts'
import { registerSurveyLinkRoutes } from './survey-link-routes.ts'
import { registerTechnicianLinkRoutes } from './technician-link-routes.ts'
import { registerTechnicianRoutes } from './technician-routes.ts'
import { registerTicketIntake } from './ticket-intake.ts'
import { registerTicketRoutes } from './ticket-routes.ts'
import { registerTwilioWebhooks, type TwilioWebhookOptions } from './twilio-webhooks.ts'
import { registerWebhookRoutes } from './webhook-routes.ts'
import { registerWebSockets } from './websocket-limits.ts'

export type ApiOptions = {
  log: Logger
  /** What time it is for every route that reads it. */
  clock: Clock
  apiKeys: ApiKey[]
  adminKey?: string
  readiness: Readiness
  /** Sites, devices and rules of the site file: the rules routes exist only when it is given. */
  world?: Pick<SiteFile, 'sites' | 'devices' | 'rules'>
  /** Incidents the rule workers opened; their routes exist only when given. */
  incidents?: Pick<IncidentStore, 'list' | 'get' | 'ofDevice'>
  /** Tickets; their routes exist only when given. */
  tickets?: TicketStore
  /** Technicians' live positions and availability. */
  roster?: TechnicianRoster
  /** Customers who hear about incidents; their routes exist only when given with the world. */
  customers?: CustomerBook
  /** Maintenance windows; their routes exist only when given. */
  maintenance?: MaintenanceWindows
  /** Notifications, the technician page's signed links, and Twilio's webhooks when Twilio is set up. */
  engage?: {
    notifications: NotificationStore
    links: LinkSigner
    twilio?: Pick<TwilioWebhookOptions, 'authToken' | 'publicUrl' | 'redis' | 'prefix'>
    /** Survey answers (issue 18): the email's one-click links at /s/<token>, and SMS answers. */
    surveys?: SurveyAnswers
  }
  /** Tickets people report (POST /api/tickets) and contacts with support; the route exists only when given with the world. */
  intake?: TicketIntake
  /** Customers' timelines (GET /api/customers/:id/history); the route exists only when given with the customers. */
  customerHistory?: CustomerHistory
  /** Makes ack and decline move offers along. */
  dispatcher?: Dispatcher
  /** Devices, readings and dead letters; their routes exist only when ingest is given. */
  ingest?: Ingest
  /** Stream entries given up (issue 16); their route exists only when given. */
  failedWork?: FailedWorkLog
  /** Where /metrics reads its totals; the route exists only when given. */
  metrics?: MetricsSources
  /** Streams the events to /ws clients. */
  live?: LiveEvents
  /** MQTT over WebSocket at /mqtt, when this process also runs the broker. */
  mqttOverWebSocket?: (socket: WebSocket, request: IncomingMessage) => void
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number
  /** Timeouts, caps and rate limits (issue 15); each one absent is its setting's default. */
  limits?: Partial<ApiLimits>
  /** Where the rate limits count, so that they hold across processes; without it, in this process. */
  rateLimitStore?: RateLimitStore
  /** How long a stop waits for requests under way and WebSocket peers before it cuts them. */
  closeGraceMs?: number
  /** Resolves once the API's writes are on enough replicas (VIGIE_REDIS_REPLICAS_ACK): before answering a write. */
  replicated?: () => Promise<void>
  /** Webhooks out (issue 18); their routes exist only when given. */
  webhooks?: WebhookAdmin
  /** Device commands (issue 19) and what each kind takes; their routes exist only when given with ingest. */
  commands?: { store: CommandStore; catalogue: CommandCatalogue }
}

/** The fastify app, built but not listening, so tests can call app.inject() without a socket. */
export async function buildApi({
  log,
  clock,
  apiKeys,
  adminKey,
  readiness,
  ingest,
  world,
  incidents,
  tickets,
  dispatcher,
  intake,
  customerHistory,
  roster,
  customers,
  maintenance,
  engage,
  failedWork,
  metrics,
  live,
  mqttOverWebSocket,
  bodyLimit = 1_048_576,
  limits: someLimits,
  rateLimitStore,
  closeGraceMs = 2000,
  replicated,
  webhooks,
  commands,
}: ApiOptions): Promise<FastifyInstance> {
  const limits: ApiLimits = { ...defaultApiLimits, ...someLimits }
  const app: FastifyInstance = fastify({
    ...httpServerOptions(limits),
    // fastify's own logger type is the part of pino's it uses.
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit,
    // The technician page's signed tokens (/t/<token>) are longer than fastify's 100-character default.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
  })
  // Past this many sockets (WebSockets included), node closes a new connection at once.
  app.server.maxConnections = limits.httpMaxConnections
  registerCloseGrace(app, closeGraceMs)
  // JSON in and out (DESIGN.md § HTTP API); form bodies are added only where webhooks need them.
  app.removeContentTypeParser('text/plain')
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  registerRequestLog(app)
  registerAnswerHeaders(app)
  if (replicated) registerReplicatedWrites(app, replicated)
  const verify = createApiKeyVerifier(adminKey ? { apiKeys, adminKey } : { apiKeys })
  const authFailures = await registerRateLimits(app, {
    settings: limits,
    ...(rateLimitStore ? { store: rateLimitStore } : {}),
  })
  registerAccessControl(app, verify, authFailures)

  // The docs are public; every other route needs a key unless it says otherwise.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, access: 'public' }
  })
  await app.register(swagger, {
    openapi: {
      info: { title: 'vigie', description: 'IoT-triggered proactive support', version: '0.1.0' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  registerHealthRoutes(app, readiness)
  registerConsoleRoutes(app, { sites: world?.sites ?? [] })
  if (metrics) registerMetricsRoutes(app, metrics, authFailures)
  if (ingest) registerDeviceRoutes(app, ingest)
  if (ingest) registerDeviceSeriesRoutes(app, { ingest, rules: world?.rules ?? [], incidents, clock })
  const commandSender =
    ingest && commands
      ? createCommandSender({
          commands: commands.store,
          catalogue: commands.catalogue,
          kindOf: async (id) => (await ingest.registry.get(id))?.kind ?? null,
          tickets,
          clock,
        })
      : undefined
  if (commands && commandSender)
    registerDeviceCommandRoutes(app, { sender: commandSender, commands: commands.store })
  if (failedWork) registerFailedWorkRoutes(app, failedWork)
  if (world) {
    registerRuleRoutes(app, { world, clock })
    registerSiteRoutes(app, world)
  }
  if (incidents) registerIncidentRoutes(app, incidents)
  if (tickets) {
    registerTicketRoutes(app, {
      tickets,
      dispatcher,
      clock,
      ...(intake &&
        customers && {
          contacts: { intake, customerExists: async (id: string) => (await customers.get(id)) !== null },
        }),
    })
    registerKpiRoutes(app, tickets)
    registerDailyKpiRoutes(app, { tickets, clock })
  }
  if (roster) registerTechnicianRoutes(app, roster)
  if (intake && world)
    registerTicketIntake(app, {
      intake,
      world,
      deviceOf: async (id) =>
        world.devices.find((d) => d.id === id) ?? (ingest ? await ingest.registry.get(id) : null),
      customerExists: async (id) => (customers ? (await customers.get(id)) !== null : false),
      clock,
    })
  if (customers && customerHistory)
    registerCustomerHistoryRoutes(app, { customers, history: customerHistory })
  if (customers && world)
    registerCustomerRoutes(app, {
      customers,
      world,
      deviceExists: async (id) =>
        world.devices.some((d) => d.id === id) || (ingest ? (await ingest.registry.get(id)) !== null : false),
    })
  if (engage) {
    registerNotificationRoutes(app, engage.notifications)
    if (tickets && dispatcher) {
      registerTechnicianLinkRoutes(app, {
        links: engage.links,
        tickets,
        dispatcher,
        ...(roster ? { roster } : {}),
        ...(world ? { world } : {}),
        ...(commands && commandSender ? { commands: { sender: commandSender, store: commands.store } } : {}),
        clock,
      })
      if (engage.twilio && roster)
        registerTwilioWebhooks(app, {
          ...engage.twilio,
          tickets,
          dispatcher,
          roster,
          notifications: engage.notifications,
          world,
          clock,
          surveys: engage.surveys,
        })
    }
    if (engage.surveys) registerSurveyLinkRoutes(app, { links: engage.links, surveys: engage.surveys, clock })
  }
  if (webhooks) registerWebhookRoutes(app, { webhooks, ...(world ? { world } : {}) })
  if (maintenance)
    registerMaintenanceRoutes(app, {
      maintenance,
      ...(world ? { world } : {}),
      ...(ingest ? { ingest } : {}),
      clock,
    })
  const admitSocket = mqttOverWebSocket || live ? await registerWebSockets(app, limits) : undefined
  if (mqttOverWebSocket && admitSocket) {
    // Devices authenticate in MQTT itself, so /mqtt needs no API key; aedes closes a socket that sends no
    // CONNECT within MQTT_CONNECT_TIMEOUT, and a frame may hold one packet of the broker's limit.
    app.get(
      '/mqtt',
      {
        websocket: true,
        config: { access: 'public' },
        schema: { hide: true },
        onRequest: admitSocket(limits.mqttMaxPacketSize),
      },
      (socket, request) => mqttOverWebSocket(socket, request.raw),
    )
  }
  if (live && admitSocket) {
    // The key is checked once the socket is open, so a refusal is a clean close (1008), not a dangling upgrade.
    app.get(
      '/ws',
      {
        websocket: true,
        config: { access: 'public' },
        schema: {
          summary: 'Every incident, ticket and notification event, live, as JSON (an API key is needed)',
        },
        onRequest: [authFailures.refuseIfBlocked, admitSocket(limits.wsMaxFrameSize)],
      },
      async (socket, request) => {
        try {
          await authFailures.check(request, () =>
            verify(request.headers.authorization ?? keyOfWebSocket(request.headers)),
          )
        } catch {
          socket.close(1008, 'a valid API key is needed')
          return
        }
        live.add(socket)
      },
    )
  }
  return app
}
