import { isIP } from 'node:net'
import { z } from 'zod'
import { durationSchema } from './duration.ts'
import { phoneSchema } from './value-schemas.ts'

const portError = 'a port number from 0 to 65535 (0 picks a free one)'
const port = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], { error: portError })
  .pipe(z.number().int().min(0, portError).max(65_535, portError))
const roleNames = ['broker', 'api', 'workers', 'notifier'] as const
export type ServiceRole = (typeof roleNames)[number]

// Env values are strings; a comma list names roles ("broker,api").
const rolesSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((role) => role.trim()).filter(Boolean),
  )
  .pipe(z.array(z.enum(roleNames)).min(1, 'at least one of broker, api, workers'))

/** A ticket's timeline cap (issue 15): entries, and bytes of their JSON; README § Incidents, tickets and their events. */
export const ticketTimelineDefaults = { maxEntries: 200, maxBytes: 49_152 } as const

// An env value listing several things: comma separated, blanks around each ignored.
const commaList = z.string().transform((text) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean),
)

// Proxies whose X-Forwarded-For names the client: addresses or CIDR ranges, comma separated, or the
// names loopback, linklocal and uniquelocal (fastify's trustProxy, through proxy-addr).
const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal'])
const trustedProxiesSchema = commaList.pipe(
  z
    .array(
      z.string().refine((part) => {
        const [address = '', bits, ...rest] = part.split('/')
        const version = isIP(address)
        if (rest.length > 0 || (version === 0 && !(proxyNames.has(part) && bits === undefined))) return false
        return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))
      }, 'an address, a CIDR range (10.0.0.0/8), loopback, linklocal or uniquelocal'),
    )
    .min(1, 'at least one address or range'),
)

// Sentinels as host:port pairs, comma separated ("10.0.0.1:26379,[::1]:26379").
const sentinelsSchema = commaList.pipe(
  z
    .array(
      z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/, 'host:port')
        .transform((part) => {
          const at = part.lastIndexOf(':')
          return { host: part.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(part.slice(at + 1)) }
        })
        .refine(({ port }) => port > 0 && port < 65_536, 'a port number from 1 to 65535'),
    )
    .min(1, 'at least one host:port'),
)

/** Every process setting; DESIGN.md § External contract names the variables. */
export const settingsSchema = z
  .strictObject({
    roles: rolesSchema.default([...roleNames]),
    redisUrl: z.url({ protocol: /^rediss?$/, error: 'a redis:// or rediss:// URL' }).optional(),
    redisPrefix: z.string().min(1).max(64).default('vigie:'),
    // Issue 17: through Sentinel, the master named redisSentinelName; every role follows a failover.
    redisSentinels: sentinelsSchema.optional(),
    redisSentinelName: z.string().min(1).max(200).optional(),
    redisSentinelPassword: z.string().min(1).optional(),
    redisPassword: z.string().min(1).optional(),
    // Acknowledged means replicated: writes that must survive the master's loss wait for this many replicas.
    redisReplicasAck: z.coerce.number().int().min(0).max(16).default(0),
    redisReplicasAckTimeout: durationSchema.default(2000),
    localRedisPort: port.refine((p) => p > 0, 'a port number from 1 to 65535').default(6379),
    dataDir: z.string().min(1).default('./data'),
    bindHost: z.string().min(1).default('0.0.0.0'),
    httpPort: port.default(8080),
    mqttPort: port.default(1883),
    mqttsPort: port.optional(),
    tlsCert: z.string().min(1).optional(),
    tlsKey: z.string().min(1).optional(),
    mqttExternalUrl: z
      .url({ protocol: /^(mqtts?|wss?|tcp|ssl)$/, error: 'an mqtt:// or mqtts:// URL' })
      .optional(),
    publicUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
    smtpUrl: z.url({ protocol: /^smtps?$/, error: 'an smtp:// or smtps:// URL' }).optional(),
    mailFrom: z.string().min(3).default('vigie <vigie@localhost>'),
    twilioAccountSid: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'an account SID: AC followed by 32 hex digits')
      .optional(),
    twilioAuthToken: z.string().min(16).optional(),
    twilioFrom: z.string().min(3).optional(),
    twilioApiUrl: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
    // The WhatsApp sender (issue 18), E.164 without "whatsapp:"; unset, WhatsApp contacts fail to the next one.
    twilioWhatsappFrom: phoneSchema.optional(),
    adminKey: z.string().min(16, 'at least 16 characters: it grants every right').optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    shutdownTimeout: durationSchema.default(8000),
    mqttMaxPacketSize: z.coerce.number().int().min(1024).max(268_435_455).default(262_144),
    mqttConnectTimeout: durationSchema.default(10_000),
    mqttDrainTimeout: durationSchema.default(30_000),
    // Retained messages live in the broker's memory: capped in all and per client (device or account).
    mqttRetainedMax: z.coerce.number().int().min(1).default(100_000),
    mqttRetainedMaxBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .default(64 * 1_048_576),
    mqttRetainedPerClient: z.coerce.number().int().min(1).default(10_000),
    mqttRetainedBytesPerClient: z.coerce
      .number()
      .int()
      .min(1024)
      .default(8 * 1_048_576),
    // Logins checked or held at once: in all (past it, refused), per address and per user name (more wait).
    // A node's whole fleet at once (issue 17): a held login costs its socket, a refused one a new connection.
    mqttAuthPendingMax: z.coerce.number().int().min(1).default(20_000),
    mqttAuthPendingPerAddress: z.coerce.number().int().min(1).default(64),
    mqttAuthPendingPerUser: z.coerce.number().int().min(1).default(4),
    // Messages waiting for delivery past which the broker stops reading its clients until half are out.
    mqttBacklogMax: z.coerce.number().int().min(100).default(10_000),
    // A client whose socket stays this long unable to take what is sent to it is dropped.
    mqttSubscriberMaxLag: durationSchema.default(10_000),
    // Every refused login is answered this long after its CONNECT, known id or not.
    mqttAuthFailureDelay: durationSchema.default(1000),
    // Issue 17: behind HAProxy's send-proxy(-v2), each MQTT(S) connection begins with the device's address.
    mqttProxyProtocol: z.enum(['off', 'on']).default('off'),
    // Issue 17: on, MQTT sessions and the message bus live in Redis, so several broker nodes serve one fleet.
    mqttCluster: z.enum(['on', 'off']).default('off'),
    logShards: z.coerce.number().int().min(1).max(1024).default(16),
    readingsRetention: z.coerce.number().int().min(100).default(1_000_000),
    deviceReadingsRetention: z.coerce.number().int().min(10).default(1000),
    deadLetterRetention: z.coerce.number().int().min(10).default(10_000),
    // Issue 16: readings and events older than these are trimmed by the retention sweep (service/retention-sweep.ts).
    readingsMaxAge: durationSchema.default(30 * 86_400_000),
    eventsMaxAge: durationSchema.default(30 * 86_400_000),
    ticketsCompactAfter: durationSchema.default(90 * 86_400_000),
    ticketTimelineMax: z.coerce.number().int().min(20).max(10_000).default(ticketTimelineDefaults.maxEntries),
    ticketTimelineMaxBytes: z.coerce
      .number()
      .int()
      .min(8192)
      .max(4_194_304)
      .default(ticketTimelineDefaults.maxBytes),
    // Issue 19: command records kept per device; the oldest finished ones go when a new one is written.
    deviceCommandsKept: z.coerce.number().int().min(1).max(100_000).default(200),
    // A worker that stops answering keeps its shards this long before another takes them over.
    rulesLease: durationSchema.default(15_000),
    // BullMQ's lock on a delivery job: a dead node's sends go to another worker within about twice it.
    deliveryLock: durationSchema.pipe(z.number().min(1000, 'at least 1s')).default(30_000),
    // auto: with more than one core, the rule workers of an all-roles start run in a child process.
    workersProcess: z.enum(['auto', 'yes', 'no']).default('auto'),
    // Issue 15, hostile input and overload: what each limit protects is in README § Security.
    httpRequestTimeout: durationSchema.default(30_000),
    httpHeadersTimeout: durationSchema.default(10_000),
    httpIdleTimeout: durationSchema.default(60_000),
    // Longer than the 60 s idle timeout of common load balancers, so they close an idle connection first.
    httpKeepAliveTimeout: durationSchema.default(72_000),
    httpMaxConnections: z.coerce.number().int().min(1).default(10_000),
    httpTrustProxy: trustedProxiesSchema.optional(),
    rateLimitWindow: durationSchema.default(60_000),
    rateLimitAuthFailures: z.coerce.number().int().min(1).default(30),
    rateLimitHeavy: z.coerce.number().int().min(1).default(120),
    rateLimitLists: z.coerce.number().int().min(1).default(600),
    wsMaxSocketsPerAddress: z.coerce.number().int().min(1).default(100),
    wsMaxFrameSize: z.coerce.number().int().min(125).max(1_048_576).default(4096),
    metricsToken: z.string().min(16, 'at least 16 characters: it is a password').optional(),
    // Issue 18: how long a survey email's one-click answer links stay good.
    surveyLinkLifetime: durationSchema.pipe(z.number().min(60_000, 'at least 1m')).default(14 * 86_400_000),
    // Issue 18, webhooks out: attempts per delivery, the first retry's wait (it doubles), the request's
    // deadline, how long a receiver may fail before it is paused, and the attempts listed per webhook.
    webhookAttempts: z.coerce.number().int().min(1).max(50).default(12),
    webhookRetryDelay: durationSchema.default(5000),
    webhookTimeout: durationSchema.pipe(z.number().min(100).max(120_000)).default(10_000),
    webhookPauseAfter: durationSchema.default(86_400_000),
    webhookAttemptsKept: z.coerce.number().int().min(10).max(100_000).default(1000),
  })
  .superRefine((s, ctx) => {
    if (s.mqttsPort !== undefined && (s.tlsCert === undefined || s.tlsKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['mqttsPort'], message: 'MQTTS needs TLS_CERT and TLS_KEY too' })
    }
    // The bus's Redis channels are glob patterns built on the prefix (broker/keys.ts).
    if (s.mqttCluster === 'on' && /[*?[\]\\]/.test(s.redisPrefix)) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisPrefix'],
        message: 'with MQTT_CLUSTER=on, no * ? [ ] or \\ in REDIS_PREFIX',
      })
    }
    if (s.httpHeadersTimeout > s.httpRequestTimeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['httpHeadersTimeout'],
        message: 'at most HTTP_REQUEST_TIMEOUT: the headers are part of the request',
      })
    }
    if (s.redisSentinels !== undefined && s.redisUrl !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisSentinels'],
        message: 'set REDIS_SENTINELS or REDIS_URL, not both',
      })
    }
    if (s.redisSentinels !== undefined && s.redisSentinelName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisSentinels'],
        message: "REDIS_SENTINEL_NAME too: the monitored master's name",
      })
    }
    if (s.redisSentinels === undefined && s.redisSentinelName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['redisSentinelName'], message: 'REDIS_SENTINELS too' })
    }
    const twilio = [s.twilioAccountSid, s.twilioAuthToken, s.twilioFrom]
    if (twilio.some((v) => v !== undefined) && twilio.some((v) => v === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['twilioAccountSid'],
        message: 'set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together',
      })
    }
    if (s.twilioWhatsappFrom !== undefined && s.twilioAccountSid === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['twilioWhatsappFrom'],
        message: 'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM too: WhatsApp goes through Twilio',
      })
    }
  })
  .transform((s) => ({
    ...s,
    publicUrl: (s.publicUrl ?? `http://localhost:${s.httpPort}`).replace(/\/+$/, ''),
  }))

export type Settings = z.output<typeof settingsSchema>
export type SettingsInput = z.input<typeof settingsSchema>

/** Environment variable → setting; the environment overrides the file's `settings:` block. */
export const settingsEnv = {
  VIGIE_ROLES: 'roles',
  REDIS_URL: 'redisUrl',
  REDIS_PREFIX: 'redisPrefix',
  REDIS_SENTINELS: 'redisSentinels',
  REDIS_SENTINEL_NAME: 'redisSentinelName',
  REDIS_SENTINEL_PASSWORD: 'redisSentinelPassword',
  REDIS_PASSWORD: 'redisPassword',
  VIGIE_REDIS_REPLICAS_ACK: 'redisReplicasAck',
  VIGIE_REDIS_REPLICAS_ACK_TIMEOUT: 'redisReplicasAckTimeout',
  VIGIE_REDIS_PORT: 'localRedisPort',
  VIGIE_DATA_DIR: 'dataDir',
  BIND_HOST: 'bindHost',
  HTTP_PORT: 'httpPort',
  MQTT_PORT: 'mqttPort',
  MQTTS_PORT: 'mqttsPort',
  TLS_CERT: 'tlsCert',
  TLS_KEY: 'tlsKey',
  MQTT_EXTERNAL_URL: 'mqttExternalUrl',
  PUBLIC_URL: 'publicUrl',
  SMTP_URL: 'smtpUrl',
  MAIL_FROM: 'mailFrom',
  TWILIO_ACCOUNT_SID: 'twilioAccountSid',
  TWILIO_AUTH_TOKEN: 'twilioAuthToken',
  TWILIO_FROM: 'twilioFrom',
  TWILIO_API_URL: 'twilioApiUrl',
  TWILIO_WHATSAPP_FROM: 'twilioWhatsappFrom',
  VIGIE_ADMIN_KEY: 'adminKey',
  LOG_LEVEL: 'logLevel',
  VIGIE_SHUTDOWN_TIMEOUT: 'shutdownTimeout',
  MQTT_MAX_PACKET_SIZE: 'mqttMaxPacketSize',
  MQTT_CONNECT_TIMEOUT: 'mqttConnectTimeout',
  MQTT_DRAIN_TIMEOUT: 'mqttDrainTimeout',
  MQTT_RETAINED_MAX: 'mqttRetainedMax',
  MQTT_RETAINED_MAX_BYTES: 'mqttRetainedMaxBytes',
  MQTT_RETAINED_PER_CLIENT: 'mqttRetainedPerClient',
  MQTT_RETAINED_BYTES_PER_CLIENT: 'mqttRetainedBytesPerClient',
  MQTT_AUTH_PENDING_MAX: 'mqttAuthPendingMax',
  MQTT_AUTH_PENDING_PER_ADDRESS: 'mqttAuthPendingPerAddress',
  MQTT_AUTH_PENDING_PER_USER: 'mqttAuthPendingPerUser',
  MQTT_AUTH_FAILURE_DELAY: 'mqttAuthFailureDelay',
  MQTT_PROXY_PROTOCOL: 'mqttProxyProtocol',
  MQTT_BACKLOG_MAX: 'mqttBacklogMax',
  MQTT_SUBSCRIBER_MAX_LAG: 'mqttSubscriberMaxLag',
  MQTT_CLUSTER: 'mqttCluster',
  VIGIE_LOG_SHARDS: 'logShards',
  READINGS_RETENTION: 'readingsRetention',
  DEVICE_READINGS_RETENTION: 'deviceReadingsRetention',
  DEAD_LETTER_RETENTION: 'deadLetterRetention',
  READINGS_MAX_AGE: 'readingsMaxAge',
  EVENTS_MAX_AGE: 'eventsMaxAge',
  TICKETS_COMPACT_AFTER: 'ticketsCompactAfter',
  TICKET_TIMELINE_MAX: 'ticketTimelineMax',
  TICKET_TIMELINE_MAX_BYTES: 'ticketTimelineMaxBytes',
  DEVICE_COMMANDS_KEPT: 'deviceCommandsKept',
  VIGIE_RULES_LEASE: 'rulesLease',
  VIGIE_DELIVERY_LOCK: 'deliveryLock',
  VIGIE_WORKERS_PROCESS: 'workersProcess',
  HTTP_REQUEST_TIMEOUT: 'httpRequestTimeout',
  HTTP_HEADERS_TIMEOUT: 'httpHeadersTimeout',
  HTTP_IDLE_TIMEOUT: 'httpIdleTimeout',
  HTTP_KEEP_ALIVE_TIMEOUT: 'httpKeepAliveTimeout',
  HTTP_MAX_CONNECTIONS: 'httpMaxConnections',
  HTTP_TRUST_PROXY: 'httpTrustProxy',
  RATE_LIMIT_WINDOW: 'rateLimitWindow',
  RATE_LIMIT_AUTH_FAILURES: 'rateLimitAuthFailures',
  RATE_LIMIT_HEAVY: 'rateLimitHeavy',
  RATE_LIMIT_LISTS: 'rateLimitLists',
  WS_MAX_SOCKETS_PER_ADDRESS: 'wsMaxSocketsPerAddress',
  WS_MAX_FRAME_SIZE: 'wsMaxFrameSize',
  METRICS_TOKEN: 'metricsToken',
  SURVEY_LINK_LIFETIME: 'surveyLinkLifetime',
  WEBHOOK_ATTEMPTS: 'webhookAttempts',
  WEBHOOK_RETRY_DELAY: 'webhookRetryDelay',
  WEBHOOK_TIMEOUT: 'webhookTimeout',
  WEBHOOK_PAUSE_AFTER: 'webhookPauseAfter',
  WEBHOOK_ATTEMPTS_KEPT: 'webhookAttemptsKept',
} as const satisfies Record<string, keyof SettingsInput>

export type SettingsEnvName = keyof typeof settingsEnv
