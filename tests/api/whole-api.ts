import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { buildApi, createReadiness, hashApiKey } from '../../api/index.ts'
import type { Role } from '../../config/index.ts'
import { loadConfig } from '../../config/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createIngest, type Ingest } from '../../ingest/index.ts'
import {
  type CustomerBook,
  createCustomerBook,
  createLinkSigner,
  createNotificationStore,
  type NotificationStore,
  notificationKeys,
} from '../../notifier/index.ts'
import {
  createIncidentStore,
  createMaintenanceWindows,
  createTechnicianRoster,
  createTicketStore,
  type IncidentStore,
  type MaintenanceWindows,
  ruleKeys,
  type TechnicianRoster,
  type Ticket,
  type TicketStore,
} from '../../rules/index.ts'
import { createLogger } from '../../service/index.ts'
import { createFailedWorkLog, streamKeys } from '../../streams/index.ts'
import { openTestRedis } from '../support/redis.ts'

export const { site } = loadConfig({ env: {} })

/** One key per role; the technician's acts for tech-amina. */
export const roleKeys: Record<Role, string> = {
  viewer: 'viewer-key-whole-api-0123456',
  dispatcher: 'dispatcher-key-whole-api-012',
  technician: 'technician-key-whole-api-01',
  admin: 'admin-key-whole-api-01234567',
}
export const as = (role: Role) => ({ authorization: `Bearer ${roleKeys[role]}` })

export type WholeApi = {
  app: FastifyInstance
  redis: Redis
  prefix: string
  ingest: Ingest
  incidents: IncidentStore
  tickets: TicketStore
  roster: TechnicianRoster
  maintenance: MaintenanceWindows
  notifications: NotificationStore
  customers: CustomerBook
  /** A new ticket of its own device, created at `at`, then given this status, assignee and offer. */
  ticket: (
    change?: Partial<Pick<Ticket, 'status' | 'assignee' | 'offer'>>,
    at?: number,
    device?: string,
  ) => Promise<Ticket>
  close: () => Promise<void>
}

/** Every part of the API over a fresh key prefix of the test Redis, with a key of each role. */
export async function buildWholeApi(): Promise<WholeApi> {
  const { redis, prefix } = await openTestRedis()
  const log = createLogger({ level: 'silent' })
  const keys = ruleKeys(prefix)
  const ingest = createIngest({
    clock: systemClock,
    redis,
    settings: {
      redisPrefix: prefix,
      logShards: 2,
      readingsRetention: 1000,
      deviceReadingsRetention: 100,
      deadLetterRetention: 100,
    },
    log,
  })
  const incidents = createIncidentStore({ redis, keys })
  const tickets = createTicketStore({ redis, keys, sla: site.sla })
  const roster = createTechnicianRoster({ redis, keys, technicians: site.technicians })
  await roster.seed()
  const maintenance = createMaintenanceWindows({ clock: systemClock, redis, keys })
  const notifications = createNotificationStore({ redis, keys: notificationKeys(prefix) })
  const links = await createLinkSigner({ redis, key: `${prefix}link-key` })
  const customers = createCustomerBook({ redis, prefix, customers: site.customers })
  await customers.seed()
  const app = await buildApi({
    clock: systemClock,
    log,
    apiKeys: [
      { name: 'wall', keyHash: hashApiKey(roleKeys.viewer), role: 'viewer' },
      { name: 'console', keyHash: hashApiKey(roleKeys.dispatcher), role: 'dispatcher' },
      {
        name: 'amina-phone',
        keyHash: hashApiKey(roleKeys.technician),
        role: 'technician',
        technician: 'tech-amina',
      },
    ],
    adminKey: roleKeys.admin,
    readiness: createReadiness(),
    world: site,
    ingest,
    incidents,
    tickets,
    roster,
    maintenance,
    customers,
    engage: { notifications, links },
    failedWork: createFailedWorkLog({ redis, keys: streamKeys(prefix) }),
    // role-rights.test.ts sends refused keys by the hundred from one address, on purpose.
    limits: { rateLimitAuthFailures: 100_000 },
  })
  await app.ready()

  const rule = site.rules.find((r) => r.id === 'door-forced')
  if (!rule) throw new Error('the demo site has door-forced')
  let made = 0
  const ticket: WholeApi['ticket'] = async (change = {}, at = Date.now(), device?: string) => {
    const n = ++made
    const place = {
      rule,
      correlationKey: `door-forced:ticket-${n}`,
      site: 'cdg-t2',
      zone: 't2-gates',
      device: device ?? `door-${n}`,
    }
    const incident = await incidents.raise(place, at, true)
    const { ticket: opened } = await tickets.openFor(incident, at)
    return Object.keys(change).length ? tickets.update(opened.id, (t) => ({ ...t, ...change })) : opened
  }

  return {
    app,
    redis,
    prefix,
    ingest,
    incidents,
    tickets,
    roster,
    maintenance,
    notifications,
    customers,
    ticket,
    close: async () => {
      await app.close()
      await redis.quit()
    },
  }
}
