// One customer's page: who they are, what they subscribe to, their open tickets and their history (issue 19).
import { ApiError, param } from './api-client.js'
import { pagedList } from './paged-list.js'
import { esc } from './plan.js'

const $ = (id) => document.getElementById(id)
const openStatuses = new Set(['open', 'assigned', 'acknowledged', 'en_route', 'on_site'])
// The site file's id rule (config/value-schemas.ts): anything else is no customer, and is not sent on.
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
// Names looked up one by one for the subscribed devices; beyond, the id alone says which.
const namedDevicesMax = 50
// customerHistoryMax is 1000 entries: one page of 1000 holds a whole history; the bound is for safety.
const historyPagesForTickets = 3
const channelNames = { sms: 'SMS', voice: 'voice', email: 'email', whatsapp: 'WhatsApp' }

const pad = (n) => String(n).padStart(2, '0')
function when(iso) {
  const d = new Date(iso)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
function age(iso) {
  const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000))
  if (minutes < 60) return `${minutes} min`
  if (minutes < 2880) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
  return `${Math.floor(minutes / 1440)} days`
}

/** A figure the page can do without: its absence is shown, but a refused key still signs out. */
const optional = (promise, fallback) =>
  promise.catch((err) => (err instanceof ApiError && err.status === 401 ? Promise.reject(err) : fallback))

function notFound(id) {
  document.title = 'vigie — no customer'
  $('customer-page').hidden = true
  $('problem').textContent = `No customer ${id}`
  $('problem').dataset.kind = 'not-found'
  $('problem').hidden = false
}

function renderHead(c) {
  $('customer-name').textContent = c.name
  const contacts = c.contacts.map((k) => `<li>${esc(channelNames[k.channel] ?? k.channel)} ${esc(k.to)}</li>`)
  $('customer-facts').innerHTML = `<dt>Id</dt><dd>${esc(c.id)}</dd>
<dt>Language</dt><dd data-field="language">${esc(c.language)}</dd>
<dt>Contacts</dt><dd data-field="contacts"><ul class="contact-list">${contacts.join('')}</ul></dd>
<dt>Quiet hours</dt><dd data-field="quiet-hours">${c.quietHours ? esc(c.quietHours) : 'none: told at any hour'}</dd>`
}

/** Names of sites and zones from /api/sites: `where(ticket)` and the subscription rows use them. */
function placeNames(sites) {
  const names = new Map()
  for (const s of sites) {
    names.set(`site:${s.id}`, s.name)
    for (const z of s.zones) names.set(`zone:${z.id}`, `${z.name} — ${s.name}`)
  }
  return (kind, id) => names.get(`${kind}:${id}`) ?? id
}

async function renderSubscriptions(api, { sites, zones, devices }, nameOf) {
  const named = await Promise.all(
    devices.map((id, i) =>
      i < namedDevicesMax ? optional(api(`/api/devices/${encodeURIComponent(id)}`), null) : null,
    ),
  )
  const row = (kind, label, id, name) =>
    `<li data-kind="${kind}" data-id="${esc(id)}"><span class="sub-kind">${label}</span> <b>${esc(name)}</b>${name === id ? '' : ` <small>${esc(id)}</small>`}</li>`
  const rows = [
    ...sites.map((id) => row('site', 'Site', id, nameOf('site', id))),
    ...zones.map((id) => row('zone', 'Zone', id, nameOf('zone', id))),
    ...devices.map((id, i) => {
      const d = named[i]
      return row('device', d ? esc(d.kind) : 'Device', id, d?.name ?? id)
    }),
  ]
  $('subscriptions').innerHTML =
    rows.join('') || '<li class="empty">Subscribed to nothing: they hear of no incident.</li>'
}

const what = (t, ruleNames) => t.title ?? ruleNames.get(t.rule) ?? t.rule ?? 'ticket'

function ticketMarkup(t, ruleNames, nameOf) {
  const where = [t.device, t.zone && nameOf('zone', t.zone)].filter(Boolean).join(' · ')
  return `<li class="ticket" data-ticket="${esc(t.id)}" data-status="${esc(t.status)}"><div class="ticket-row">
<span class="severity sev-${esc(t.severity)}">${esc(t.severity)}</span><span class="what">${esc(what(t, ruleNames))}</span>
<span class="status" data-status="${esc(t.status)}">${esc(t.status.replace('_', ' '))}</span>
<span class="where">${esc(where)} — opened ${esc(age(t.createdAt))} ago</span></div></li>`
}

/** The open tickets that concerned them: the ticket entries of their history, each as it stands now. */
async function openTicketsOf(api, id) {
  const found = new Map()
  let cursor = null
  for (let i = 0; i < historyPagesForTickets; i++) {
    const page = await api(
      `/api/customers/${encodeURIComponent(id)}/history?limit=1000${param('cursor', cursor)}`,
    )
    for (const e of page.items)
      if (e.kind === 'ticket' && openStatuses.has(e.ticket.status)) found.set(e.ticket.id, e.ticket)
    cursor = page.next
    if (!cursor) break
  }
  return [...found.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}

const needsDispatcher = (err) => err instanceof ApiError && err.status === 403

async function renderOpenTickets(api, id, ruleNames, nameOf) {
  const list = $('open-tickets')
  try {
    const tickets = await openTicketsOf(api, id)
    $('open-count').textContent = String(tickets.length)
    list.innerHTML =
      tickets.map((t) => ticketMarkup(t, ruleNames, nameOf)).join('') ||
      '<li class="empty">No open ticket concerns them.</li>'
  } catch (err) {
    if (!needsDispatcher(err)) throw err
    $('open-count').textContent = '?'
    list.innerHTML = '<li class="empty">Their tickets need a dispatcher key.</li>'
  }
}

function entryText(e, ruleNames) {
  switch (e.kind) {
    case 'ticket':
      return `${e.reported ? 'Reported' : 'Concerned by'}: ${esc(what(e.ticket, ruleNames))} <span class="severity sev-${esc(e.ticket.severity)}">${esc(e.ticket.severity)}</span> <span class="status" data-status="${esc(e.ticket.status)}">${esc(e.ticket.status.replace('_', ' '))}</span>`
    case 'message':
      return `${esc(e.template)} by ${esc(channelNames[e.channel] ?? e.channel)} to ${esc(e.to)}: <span class="outcome" data-status="${esc(e.status)}">${esc(e.status)}</span>${e.error ? ` <small>${esc(e.error)}</small>` : ''}`
    case 'answer':
      return `Answered the survey: <b>${esc(e.value)}</b>`
    case 'customer-contact':
      return e.via === 'reported' ? 'Reported a problem to support' : 'Called support'
    default:
      return esc(e.kind)
  }
}

function entryMarkup(e, ruleNames) {
  const ticket = typeof e.ticket === 'string' ? e.ticket : e.ticket?.id
  return `<li class="history-entry" data-kind="${esc(e.kind)}"><time datetime="${esc(e.at)}">${esc(when(e.at))}</time>
<span class="entry">${entryText(e, ruleNames)}</span>${ticket ? `<small class="ref" title="ticket ${esc(ticket)}">${esc(ticket.slice(0, 8))}</small>` : ''}</li>`
}

/** Their history, newest first, `limit` entries at a time; "More" follows `next`. */
async function startHistory(api, id, limit, ruleNames) {
  const list = $('history')
  try {
    await pagedList({
      api,
      list,
      more: $('history-more'),
      path: `/api/customers/${encodeURIComponent(id)}/history?limit=${limit}`,
      markup: (e) => entryMarkup(e, ruleNames),
      empty: 'Nothing in their history yet.',
    })
  } catch (err) {
    if (!needsDispatcher(err)) throw err
    list.innerHTML = '<li class="empty">Their history needs a dispatcher key.</li>'
  }
}

/** Shows customer `id`, or says there is none (an unknown id, or one no customer can have). */
export async function showCustomer({ api, id, limit }) {
  if (!idPattern.test(id)) return notFound(id)
  let customer
  try {
    customer = await api(`/api/customers/${encodeURIComponent(id)}`)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return notFound(id)
    throw err
  }
  document.title = `vigie — ${customer.name}`
  renderHead(customer)
  $('customer-page').hidden = false
  const [sites, rules] = await Promise.all([
    optional(
      api('/api/sites').then((r) => r.items),
      [],
    ),
    optional(
      api('/api/rules').then((r) => r.items),
      [],
    ),
  ])
  const nameOf = placeNames(sites)
  const ruleNames = new Map(rules.map((r) => [r.id, r.name ?? r.id]))
  await Promise.all([
    renderSubscriptions(api, customer.subscribes, nameOf),
    renderOpenTickets(api, id, ruleNames, nameOf),
    startHistory(api, id, limit, ruleNames),
  ])
}
