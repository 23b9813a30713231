import type { Redis } from 'ioredis'
import { type Customer, customerRecordSchema } from '../config/index.ts'
import { createSeededRecords } from '../rules/index.ts'
import { notificationKeys, subscriptionGroup } from './keys.ts'

export type CustomerBook = ReturnType<typeof createCustomerBook>

/** The customers who hear about incidents: seeded from the site file, then managed through the API. */
export function createCustomerBook({
  redis,
  prefix,
  customers,
}: {
  redis: Redis
  prefix: string
  /** The site file's: they seed the book, unless the API created, changed or deleted them since. */
  customers: Customer[]
}) {
  const keys = notificationKeys(prefix)
  const records = createSeededRecords({
    redis,
    key: keys.customers,
    originsKey: keys.customerOrigins,
    schema: customerRecordSchema,
    fromSiteFile: customers,
    groupsOf: ({ subscribes: s }) => [
      ...(s.sites ?? []).map((id) => subscriptionGroup('site', id)),
      ...(s.zones ?? []).map((id) => subscriptionGroup('zone', id)),
      ...(s.devices ?? []).map((id) => subscriptionGroup('device', id)),
    ],
  })
  return {
    seed: async (): Promise<void> => {
      await records.seed()
    },
    get: records.get,
    list: records.all,
    /** The customers subscribed to a site, a zone or a device, read through the subscription sets. */
    subscribedTo: ({ site, zone, device }: { site: string; zone: string | null; device: string | null }) =>
      records.inGroups([
        subscriptionGroup('site', site),
        ...(zone === null ? [] : [subscriptionGroup('zone', zone)]),
        ...(device === null ? [] : [subscriptionGroup('device', device)]),
      ]),
    /** Customers by id (byte order) after `after`, read through the id index. */
    page: records.page,
    create: records.create,
    replace: records.replace,
    remove: records.remove,
  }
}
