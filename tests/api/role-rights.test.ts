import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { customerSchema, type Role, technicianSchema } from '../../config/index.ts'
import type { TicketStatus } from '../../rules/index.ts'
import { as, buildWholeApi, type WholeApi } from './whole-api.ts'

// The rule: a viewer reads; a dispatcher acts on tickets, the roster and maintenance windows; a technician
// acts on their own tickets and their own position only; an admin manages everything, customers included
// (README § HTTP API).
const roles: Role[] = ['viewer', 'dispatcher', 'technician', 'admin']
const anyKey = { viewer: 200, dispatcher: 200, technician: 200, admin: 200 }
const dispatcherOrAdmin = (ok: number) => ({ viewer: 403, dispatcher: ok, technician: 403, admin: ok })
const alsoTheTechnician = (ok: number) => ({ viewer: 403, dispatcher: ok, technician: ok, admin: ok })
const adminOnly = (ok: number) => ({ viewer: 403, dispatcher: 403, technician: 403, admin: ok })

type Case = {
  name: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Makes what the request acts on afresh for every role, so one role's change never blocks the next. */
  request: () => Promise<{ url: string; payload?: object }>
  expect: Record<Role, number>
}

let api: WholeApi
let made = 0
const fresh = (what: string) => `${what}-${++made}`
const location = { lat: 49.01, lon: 2.56 }
const technician = (id: string) => ({
  id,
  name: 'Zoé N.',
  phone: '+33600000077',
  language: 'fr',
  skills: ['security'],
})

beforeAll(async () => {
  api = await buildWholeApi()
  await api.ingest.registry.add({ id: 'door-read', kind: 'door', site: 'cdg-t2', zone: 't2-gates' })
})
afterAll(async () => {
  await api.close()
})

const newWindow = async () =>
  (
    await api.maintenance.create({
      scope: { site: 'cdg-t2', zone: 't2-gates' },
      startsAt: Date.now(),
      endsAt: Date.now() + 3_600_000,
      reason: 'rights test',
      createdBy: 'test',
    })
  ).id

const read = (name: string, url: () => Promise<string> = async () => name): Case => ({
  name,
  method: 'GET',
  request: async () => ({ url: await url() }),
  expect: anyKey,
})

const reads: Case[] = [
  ...[
    '/api/tickets?status=open',
    '/api/incidents',
    '/api/devices',
    '/api/devices/door-read',
    '/api/devices/door-read/readings',
    '/api/dead-letters',
    '/api/technicians',
    '/api/technicians/tech-amina',
    '/api/maintenance-windows',
    '/api/notifications',
    '/api/rules',
    '/api/kpis',
    '/api/kpis/daily',
    '/api/sites',
    '/api/customers',
    '/api/customers/cust-skylounge',
  ].map((url) => read(url)),
  read('/api/tickets/:id', async () => `/api/tickets/${(await api.ticket()).id}`),
  read('/api/incidents/:id', async () => `/api/incidents/${(await api.ticket()).incidents[0]}`),
  read('/api/notifications?ticket=', async () => `/api/notifications?ticket=${(await api.ticket()).id}`),
  read('/api/maintenance-windows/:id', async () => `/api/maintenance-windows/${await newWindow()}`),
]

// Each move starts from a status that allows it, on a ticket assigned to tech-amina (the technician key's) or
// to tech-julien (someone else); an assigned ticket is offered to its assignee, as dispatch leaves it.
const moves: { action: string; from: TicketStatus; payload?: object }[] = [
  { action: 'ack', from: 'assigned' },
  { action: 'decline', from: 'assigned' },
  { action: 'en-route', from: 'acknowledged' },
  { action: 'on-site', from: 'en_route' },
  { action: 'resolve', from: 'on_site', payload: { note: 'fixed' } },
  { action: 'comment', from: 'acknowledged', payload: { text: 'spare part ordered' } },
  { action: 'customer-contact', from: 'acknowledged' },
]
const ticketActions: Case[] = moves.flatMap(({ action, from, payload }) =>
  (['tech-amina', 'tech-julien'] as const).map((assignee) => ({
    name: `/api/tickets/:id/${action} of ${assignee === 'tech-amina' ? 'their own' : "someone else's"} ticket`,
    method: 'POST' as const,
    request: async () => ({
      url: `/api/tickets/${(await api.ticket({ status: from, assignee, offer: from === 'assigned' ? { technician: assignee, expiresAt: new Date(Date.now() + 600_000).toISOString() } : null })).id}/${action}`,
      payload: payload ?? {},
    }),
    expect: assignee === 'tech-amina' ? alsoTheTechnician(200) : dispatcherOrAdmin(200),
  })),
)
ticketActions.push({
  name: "/api/tickets/:id/ack of nobody's ticket",
  method: 'POST',
  request: async () => ({ url: `/api/tickets/${(await api.ticket()).id}/ack`, payload: {} }),
  expect: dispatcherOrAdmin(200),
})

const newTechnician = async () => {
  const id = fresh('tech-rights')
  await api.roster.create(technicianSchema.parse(technician(id)))
  return id
}
const customer = (id: string) => ({
  id,
  name: 'Café des pistes',
  language: 'fr',
  contacts: [{ sms: '+33600000088' }],
  subscribes: { zones: ['t2-gates'] },
})
const newCustomer = async () => {
  const id = fresh('cust-rights')
  await api.customers.create(customerSchema.parse(customer(id)))
  return id
}
const changes: Case[] = [
  {
    name: '/api/customers',
    method: 'POST',
    request: async () => ({ url: '/api/customers', payload: customer(fresh('cust-new')) }),
    expect: adminOnly(201),
  },
  {
    name: '/api/customers/:id',
    method: 'PUT',
    request: async () => {
      const id = await newCustomer()
      return { url: `/api/customers/${id}`, payload: { ...customer(id), subscribes: { sites: ['cdg-t2'] } } }
    },
    expect: adminOnly(200),
  },
  {
    name: '/api/customers/:id',
    method: 'DELETE',
    request: async () => ({ url: `/api/customers/${await newCustomer()}` }),
    expect: adminOnly(204),
  },
  {
    name: '/api/devices',
    method: 'POST',
    request: async () => ({
      url: '/api/devices',
      payload: { id: fresh('door-rights'), kind: 'door', site: 'cdg-t2', zone: 't2-gates' },
    }),
    expect: adminOnly(201),
  },
  {
    name: '/api/technicians',
    method: 'POST',
    request: async () => ({ url: '/api/technicians', payload: technician(fresh('tech-new')) }),
    expect: dispatcherOrAdmin(201),
  },
  {
    name: '/api/technicians/:id',
    method: 'PUT',
    request: async () => {
      const id = await newTechnician()
      return { url: `/api/technicians/${id}`, payload: { ...technician(id), skills: ['hvac'] } }
    },
    expect: dispatcherOrAdmin(200),
  },
  {
    name: '/api/technicians/:id',
    method: 'DELETE',
    request: async () => ({ url: `/api/technicians/${await newTechnician()}` }),
    expect: dispatcherOrAdmin(204),
  },
  ...(['location', 'availability'] as const).flatMap((what) => {
    const payload = what === 'location' ? location : { available: true }
    return [
      {
        name: `/api/technicians/:id/${what} of themself`,
        method: 'PUT' as const,
        request: async () => ({ url: `/api/technicians/tech-amina/${what}`, payload }),
        expect: alsoTheTechnician(204),
      },
      {
        name: `/api/technicians/:id/${what} of someone else`,
        method: 'PUT' as const,
        request: async () => ({ url: `/api/technicians/tech-julien/${what}`, payload }),
        expect: dispatcherOrAdmin(204),
      },
    ]
  }),
  {
    name: '/api/maintenance-windows',
    method: 'POST',
    request: async () => ({
      url: '/api/maintenance-windows',
      payload: { scope: { site: 'cdg-t2' }, minutes: 30, reason: 'rights test' },
    }),
    expect: dispatcherOrAdmin(201),
  },
  {
    name: '/api/maintenance-windows/:id',
    method: 'DELETE',
    request: async () => ({ url: `/api/maintenance-windows/${await newWindow()}` }),
    expect: dispatcherOrAdmin(204),
  },
  {
    // It writes nothing: a read, so any key may run it.
    name: '/api/rules/dry-run',
    method: 'POST',
    request: async () => ({
      url: '/api/rules/dry-run',
      payload: {
        readings: [{ device: 'door-gate-1', type: 'door', open: true, ts: '2026-11-23T09:00:00Z' }],
      },
    }),
    expect: anyKey,
  },
  {
    // A read, but of what devices and events said, contacts included.
    name: '/api/failed-work',
    method: 'GET',
    request: async () => ({ url: '/api/failed-work' }),
    expect: adminOnly(200),
  },
]

const inject = async (c: Case, headers: Record<string, string>) => {
  const { url, payload } = await c.request()
  return api.app.inject({ method: c.method, url, headers, ...(payload ? { payload } : {}) })
}

describe.each([...reads, ...ticketActions, ...changes])('$method $name', (c) => {
  it.for(roles)('as %s', async (role) => {
    const res = await inject(c, as(role))
    expect(res.statusCode, res.body).toBe(c.expect[role])
    if (res.statusCode === 403) expect(res.json().error.code).toBe('AUTH_FORBIDDEN')
  })

  it('refuses a request without a key, or with a key nobody issued, with 401', async () => {
    const none = await inject(c, {})
    expect([none.statusCode, none.json().error.code]).toEqual([401, 'AUTH_MISSING_KEY'])
    const bad = await inject(c, { authorization: 'Bearer not-a-key-anybody-issued' })
    expect([bad.statusCode, bad.json().error.code]).toEqual([401, 'AUTH_INVALID_KEY'])
  })
})
