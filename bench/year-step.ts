import type { Redis } from 'ioredis'
import { loadConfig, type SiteFile } from '../config/index.ts'
import { startMessageStandIns } from '../demo/index.ts'
import { historyDeviceSecret } from '../history/index.ts'
import { createTicketStore, ruleKeys } from '../rules/index.ts'
import { createLogger, findFreePort, startService } from '../service/index.ts'
import type { Progress } from './progress.ts'
import { type ProbeFigures, probeDevices, runProbes } from './year-probes.ts'
import { measureRoutes, type RouteFigure, type RouteProbe } from './year-routes.ts'
import { waitForQuiet } from './year-settle.ts'

/** What one vigie answered over one Redis prefix: the year's, or an empty one beside it. */
export type YearRun = { routes: RouteFigure[]; probes: ProbeFigures; usedMemoryBytes: number }

const adminKey = 'bench-year-admin-key-0123456789'
const twilioFrom = '+33600000000'

/** The routes a dispatcher's console, a wall screen, an admin and Prometheus call, with real ids. */
async function routesOver(site: SiteFile, redis: Redis, prefix: string): Promise<RouteProbe[]> {
  const tickets = createTicketStore({ redis, keys: ruleKeys(prefix), sla: site.sla })
  const [newest] = (await tickets.page({ limit: 1 })).items
  const [open] = (await tickets.page({ limit: 1, status: 'assigned' })).items
  const ticket = newest ?? open
  const device = ticket?.device ?? site.devices[0]?.id ?? 'none'
  const zone = site.sites[0]?.zones[0]?.id ?? 'none'
  const siteId = site.sites[0]?.id ?? 'none'
  const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString()
  const ragged = new Date(Date.now() - 40.3 * 86_400_000).toISOString()
  const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString()
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString()
  const customer = site.customers[0]?.id ?? 'none'
  const readings = Array.from({ length: 10_000 }, (_, i) => ({
    device: site.devices[i % site.devices.length]?.id,
    ts: new Date(Date.now() - (10_000 - i) * 1000).toISOString(),
    celsius: 20 + (i % 13),
  }))
  return [
    { name: 'GET /api/tickets', path: '/api/tickets?limit=100' },
    { name: 'GET /api/tickets?status=open', path: '/api/tickets?status=open&limit=100' },
    { name: 'GET /api/tickets?status=closed', path: '/api/tickets?status=closed&limit=100' },
    { name: 'GET /api/tickets?site=', path: `/api/tickets?site=${siteId}&limit=100` },
    { name: 'GET /api/tickets?zone=', path: `/api/tickets?zone=${zone}&limit=100` },
    { name: 'GET /api/tickets?device=', path: `/api/tickets?device=${device}&limit=100` },
    { name: 'GET /api/tickets?rule=', path: '/api/tickets?rule=door-forced&limit=100' },
    { name: 'GET /api/tickets/:id', path: `/api/tickets/${ticket?.id ?? 'none'}` },
    { name: 'GET /api/incidents', path: '/api/incidents?limit=100' },
    { name: 'GET /api/notifications?ticket=', path: `/api/notifications?ticket=${ticket?.id ?? 'none'}` },
    { name: 'GET /api/devices', path: '/api/devices?limit=100' },
    { name: 'GET /api/devices/:id', path: `/api/devices/${device}` },
    { name: 'GET /api/devices/:id/readings', path: `/api/devices/${device}/readings?limit=100` },
    { name: 'GET /api/dead-letters', path: '/api/dead-letters?limit=100' },
    { name: 'GET /api/customers', path: '/api/customers?limit=100' },
    { name: 'GET /api/technicians', path: '/api/technicians?limit=100' },
    { name: 'GET /api/maintenance-windows', path: '/api/maintenance-windows' },
    { name: 'GET /api/failed-work', path: '/api/failed-work?limit=100' },
    { name: 'GET /api/kpis (the whole year)', path: '/api/kpis' },
    { name: 'GET /api/kpis (a year, a site)', path: `/api/kpis?from=${yearAgo}&site=${siteId}` },
    { name: 'GET /api/kpis (40.3 days, ragged)', path: `/api/kpis?from=${ragged}` },
    // Issue 19: what the console's device panel, KPI trend lines and customer page read.
    {
      name: 'GET /api/devices/:id/series (a week)',
      path: `/api/devices/${device}/series?from=${weekAgo}&points=240`,
    },
    {
      name: 'GET /api/devices/:id/series (30 days)',
      path: `/api/devices/${device}/series?from=${monthAgo}&points=1000`,
    },
    { name: 'GET /api/kpis/daily (30 days)', path: '/api/kpis/daily?days=30' },
    { name: 'GET /api/kpis/daily (90 days, a site)', path: `/api/kpis/daily?days=90&site=${siteId}` },
    { name: 'GET /api/customers/:id/history', path: `/api/customers/${customer}/history?limit=100` },
    { name: 'GET /metrics', path: '/metrics' },
    { name: 'GET /readyz', path: '/readyz' },
    {
      name: 'POST /api/rules/dry-run (10,000 readings)',
      path: '/api/rules/dry-run',
      method: 'POST',
      body: { readings },
      repeats: 5,
    },
  ]
}

/**
 * vigie with every role in this process over `prefix` of the year's redis-server, the year's site, the
 * message stand-ins; times its routes and probes it, then stops it.
 */
export async function measureVigie({
  site,
  redis,
  redisUrl,
  prefix,
  probes,
  repeats,
  progress,
  label,
}: {
  site: SiteFile
  redis: Redis
  redisUrl: string
  prefix: string
  probes: number
  repeats: number
  progress?: Progress
  label: string
}): Promise<YearRun> {
  const log = createLogger({ level: 'error' })
  const standIns = await startMessageStandIns({ log, keepMessages: false, reportDelivery: false })
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
  const publicUrl = `http://127.0.0.1:${httpPort}`
  const config = loadConfig({
    env: {
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BIND_HOST: '127.0.0.1',
      PUBLIC_URL: publicUrl,
      VIGIE_ADMIN_KEY: adminKey,
      VIGIE_WORKERS_PROCESS: 'no',
      VIGIE_LOG_SHARDS: '16',
      TWILIO_ACCOUNT_SID: standIns.accountSid,
      TWILIO_AUTH_TOKEN: standIns.authToken,
      TWILIO_FROM: twilioFrom,
      TWILIO_API_URL: standIns.twilioUrl,
      SMTP_URL: standIns.smtpUrl,
      // The step sends thousands of calls from one key on purpose.
      RATE_LIMIT_HEAVY: '1000000',
      RATE_LIMIT_LISTS: '1000000',
    },
  })
  progress?.update(`${label}: vigie starting`)
  // No fleet publishes while the step measures: silence rules would fire for every device at once.
  const measured = { ...site, rules: site.rules.filter((rule) => rule.condition.kind !== 'silent') }
  const service = await startService({ config: { ...config, site: measured }, log })
  try {
    progress?.update(`${label}: offers due at start, events`)
    await waitForQuiet({ redis, prefix, timeoutMs: 300_000 })
    const baseUrl = service.httpUrl ?? publicUrl
    progress?.update(`${label}: routes`)
    const routes = await measureRoutes({
      baseUrl,
      token: adminKey,
      routes: await routesOver(site, redis, prefix),
      repeats,
    })
    progress?.update(`${label}: reading → offered, SMS reply`)
    const tickets = createTicketStore({ redis, keys: ruleKeys(prefix), sla: site.sla })
    const found = await runProbes({
      site,
      devices: await probeDevices(site, tickets, probes + 5),
      warmup: 5,
      secret: historyDeviceSecret,
      mqttPort: service.mqttPort ?? mqttPort,
      baseUrl,
      publicUrl,
      redis,
      prefix,
      authToken: standIns.authToken,
      accountSid: standIns.accountSid,
      from: twilioFrom,
    })
    const usedMemoryBytes = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN)
    return { routes, probes: found, usedMemoryBytes }
  } finally {
    await service.close('bench step over')
    await standIns.close()
  }
}
