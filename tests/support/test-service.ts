import mqtt from 'mqtt'
import { loadConfig } from '../../config/index.ts'
import { type Clock, systemClock } from '../../domain/index.ts'
import { createLogger, findFreePort, type RunningService, startService } from '../../service/index.ts'
import { openTestRedis } from './redis.ts'
import { writeTempFile } from './temp-files.ts'

/**
 * The whole service in this process (every role), over the test Redis with a fresh prefix, on free
 * ports, with a site file of the test's own: readings go in over real MQTT, answers come out of the API.
 */
export async function startTestService({
  site,
  env = {},
  adminKey = 'test-service-admin-key-0123456',
  clock = systemClock,
  prefix: sharedPrefix,
}: {
  site: string
  env?: Record<string, string>
  adminKey?: string
  /** Every role's clock: a manual one (manual-clock.ts) makes timers fire when the test moves it. */
  clock?: Clock
  /** Another service's prefix: both are then nodes of one deployment. */
  prefix?: string
}) {
  const opened = await openTestRedis()
  const { url, redis } = opened
  const prefix = sharedPrefix ?? opened.prefix
  await redis.quit()
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
  const publicUrl = `http://127.0.0.1:${httpPort}`
  const config = loadConfig({
    env: {
      VIGIE_CONFIG: writeTempFile('site.yaml', site),
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      VIGIE_ADMIN_KEY: adminKey,
      PUBLIC_URL: publicUrl,
      ...env,
    },
  })
  const service: RunningService = await startService({
    config,
    log: createLogger({ level: 'silent' }),
    clock,
  })

  /** The API as an admin; a failed answer throws with its status and body. */
  async function api<T>(
    path: string,
    { method = 'GET', body }: { method?: string; body?: unknown } = {},
  ): Promise<T> {
    const sent = body ?? (method === 'POST' ? {} : undefined)
    const res = await fetch(`${publicUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminKey}`,
        ...(sent === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(sent === undefined ? {} : { body: JSON.stringify(sent) }),
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return (res.status === 204 ? undefined : await res.json()) as T
  }

  /** Publishes readings at QoS 1 as the device (secret `secret-<id>`); resolves once each is acknowledged. */
  async function publish(device: string, ...readings: Record<string, unknown>[]): Promise<void> {
    const client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: mqttPort,
      clientId: device,
      username: device,
      password: `secret-${device}`,
      reconnectPeriod: 0,
    })
    try {
      for (const reading of readings)
        await client.publishAsync(`devices/${device}/telemetry`, JSON.stringify(reading), { qos: 1 })
    } finally {
      await client.endAsync()
    }
  }

  return { service, publicUrl, mqttPort, prefix, api, publish, close: () => service.close('test over') }
}

export type TestService = Awaited<ReturnType<typeof startTestService>>

/** The Twilio account and number engageEnv gives vigie: Twilio's webhooks carry them. */
export const testTwilioAccount = { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, number: '+33100000000' }

/** The settings that point the notifier at the test's Twilio-compatible server and SMTP server. */
export const engageEnv = ({
  twilioUrl,
  smtpUrl,
  authToken,
}: {
  twilioUrl: string
  smtpUrl: string
  authToken: string
}) => ({
  TWILIO_ACCOUNT_SID: testTwilioAccount.accountSid,
  TWILIO_AUTH_TOKEN: authToken,
  TWILIO_FROM: testTwilioAccount.number,
  TWILIO_API_URL: twilioUrl,
  SMTP_URL: smtpUrl,
})
