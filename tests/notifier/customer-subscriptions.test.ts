import { describe, expect, it } from 'vitest'
import type { Customer } from '../../config/index.ts'
import { createCustomerBook } from '../../notifier/index.ts'
import { openTestRedis } from '../support/redis.ts'

const customer = (id: string, subscribes: Customer['subscribes']): Customer => ({
  id,
  name: id,
  language: 'en',
  contacts: [{ sms: '+33600000999' }],
  subscribes,
})

const ids = (customers: Customer[]) => customers.map((c) => c.id)

describe("the customer book's subscription sets", () => {
  it('answers who hears about a site, zone or device without reading every customer, and follows changes', async () => {
    const { redis, prefix } = await openTestRedis()
    const seeded = [
      customer('lounge', { zones: ['t2-lounges'] }),
      customer('airline', { sites: ['cdg-t2'] }),
      customer('gate-shop', { devices: ['door-12'] }),
      customer('other-site', { sites: ['ory-1'] }),
    ]
    const book = createCustomerBook({ redis, prefix, customers: seeded })
    await book.seed()
    const at = (zone: string | null, device: string | null) =>
      book.subscribedTo({ site: 'cdg-t2', zone, device })
    expect(ids(await at('t2-lounges', 'temp-1'))).toEqual(['airline', 'lounge'])
    expect(ids(await at('t2-gates', 'door-12'))).toEqual(['airline', 'gate-shop'])
    expect(ids(await book.subscribedTo({ site: 'ory-1', zone: null, device: null }))).toEqual(['other-site'])

    // A change of subscriptions moves the customer out of the old sets; a removal out of all.
    expect(await book.replace(customer('lounge', { devices: ['door-12'] }))).toBe(true)
    expect(ids(await at('t2-lounges', null))).toEqual(['airline'])
    expect(ids(await at(null, 'door-12'))).toEqual(['airline', 'gate-shop', 'lounge'])
    expect(await book.remove('gate-shop')).toBe(true)
    expect(ids(await at(null, 'door-12'))).toEqual(['airline', 'lounge'])
    expect(await book.create(customer('new', { zones: ['t2-lounges'] }))).toBe(true)
    expect(ids(await at('t2-lounges', null))).toEqual(['airline', 'new'])
    await redis.quit()
  })

  it('puts customers written before the sets existed into them at start', async () => {
    const { redis, prefix } = await openTestRedis()
    const book = createCustomerBook({ redis, prefix, customers: [] })
    await book.create(customer('api-made', { zones: ['t2-lounges'] }))
    // What an earlier vigie left: the customer, none of its sets.
    await redis.del(`${prefix}customers:groups`, `${prefix}customers:in:zone:t2-lounges`)
    expect(ids(await book.subscribedTo({ site: 'cdg-t2', zone: 't2-lounges', device: null }))).toEqual([])
    await createCustomerBook({ redis, prefix, customers: [] }).seed()
    expect(ids(await book.subscribedTo({ site: 'cdg-t2', zone: 't2-lounges', device: null }))).toEqual([
      'api-made',
    ])
    // Still the API's: a site file naming it later does not take it back.
    expect(await redis.hget(`${prefix}customer-origins`, 'api-made')).toBe('api')
    await redis.quit()
  })
})
