// The dispatcher's console: the plan, open tickets, KPI tiles and messages, kept live by /ws.

import { createTicketAlerts } from './alert.js'
import { forgetKey, keepKey, takeKey } from './api-client.js'
import { createDevicePanel } from './device-panel.js'
import { esc, planMarkup } from './plan.js'
import { trendMarkup } from './trend.js'

const openStatuses = new Set(['open', 'assigned', 'acknowledged', 'en_route', 'on_site'])
const severityRank = { critical: 4, major: 3, minor: 2, info: 1 }
const $ = (id) => document.getElementById(id)

const state = {
  key: null,
  sites: [],
  site: null,
  rules: new Map(),
  devices: [],
  technicians: [],
  tickets: new Map(),
  incidents: new Map(),
  kpis: null,
  trend: null,
  messages: [],
  expanded: new Set(),
}

class Unauthorised extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${state.key}` } })
  if (res.status === 401) throw new Unauthorised('The API key was refused')
  if (!res.ok) throw new Error(`${path}: ${res.status}`)
  return res.json()
}

/** A JSON POST; a refusal throws with the API's own reason. */
async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${state.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const answer = await res.json().catch(() => null)
  if (!res.ok) throw new Error(answer?.error?.message ?? `${path}: ${res.status}`)
  return answer
}

/** Every page of a list, following `next` (bounded, so a huge fleet cannot hang the console). */
async function all(path, pages = 20) {
  const items = []
  let cursor = null
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?'
    const page = await api(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path)
    items.push(...page.items)
    cursor = page.next
    if (!cursor) break
  }
  return items
}

const optional = (promise, fallback) =>
  promise.catch((err) => (err instanceof Unauthorised ? Promise.reject(err) : fallback))

// Ids /ws spoke of while the lists were loading: what it said is newer than the lists.
let heardDuringLoad = null

async function loadAll() {
  heardDuringLoad = new Set()
  const [sites, rules, devices, technicians, tickets, incidents] = await Promise.all([
    api('/api/sites').then((r) => r.items),
    optional(
      api('/api/rules').then((r) => r.items),
      [],
    ),
    optional(all('/api/devices?limit=1000'), []),
    optional(
      api('/api/technicians').then((r) => r.items),
      [],
    ),
    // Open tickets by status, however old: the newest N of all tickets could miss a long-running one.
    optional(
      Promise.all([...openStatuses].map((status) => all(`/api/tickets?status=${status}&limit=500`, 5))),
      [],
    ).then((lists) => lists.flat()),
    optional(
      api('/api/incidents?limit=200').then((r) => r.items),
      [],
    ),
  ])
  state.sites = sites
  state.rules = new Map(rules.map((r) => [r.id, r.name ?? r.id]))
  state.devices = devices
  state.technicians = technicians
  // The lists replace what was known (a reconnect may have missed a resolution), but for what /ws said meanwhile.
  const heard = heardDuringLoad
  heardDuringLoad = null
  const keep = (id) => heard.has(id) || state.expanded.has(id)
  const freshTickets = new Map(tickets.map((t) => [t.id, t]))
  for (const [id, t] of state.tickets) if (keep(id)) freshTickets.set(id, t)
  state.tickets = freshTickets
  const freshIncidents = new Map(incidents.filter((i) => i.status === 'active').map((i) => [i.id, i]))
  for (const [id, i] of state.incidents) if (heard.has(id)) freshIncidents.set(id, i)
  state.incidents = freshIncidents
  if (!state.site || !sites.some((s) => s.id === state.site)) state.site = sites[0]?.id ?? null
  $('site').innerHTML = sites.map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join('')
  $('site').value = state.site ?? ''
  await Promise.all([loadKpis(), loadMessages()])
}

async function loadKpis() {
  const from = new Date(Date.now() - 86_400_000).toISOString()
  const site = state.site ? `&site=${encodeURIComponent(state.site)}` : ''
  state.kpis = await optional(api(`/api/kpis?from=${encodeURIComponent(from)}${site}`), null)
  schedule()
  await loadTrend()
}

// Past days do not change: the trend is read again only now and then, or for another site.
let trendRead = { site: undefined, at: 0 }
async function loadTrend() {
  if (trendRead.site === state.site && Date.now() - trendRead.at < 600_000) return
  trendRead = { site: state.site, at: Date.now() }
  const site = state.site ? `&site=${encodeURIComponent(state.site)}` : ''
  state.trend = await optional(
    api(`/api/kpis/daily?days=30${site}`).then((r) => r.days),
    null,
  )
  schedule()
}

async function loadMessages() {
  state.messages = await optional(
    api('/api/notifications?limit=30').then((r) => r.items),
    state.messages,
  )
  schedule()
}

async function loadTechnicians() {
  state.technicians = await optional(
    api('/api/technicians').then((r) => r.items),
    state.technicians,
  )
  schedule()
}

// ---- live ----

function later(fn, ms) {
  let timer = null
  return () => {
    if (timer !== null) return
    timer = setTimeout(() => {
      timer = null
      fn()
    }, ms)
  }
}
const refreshKpis = later(loadKpis, 1500)
const refreshMessages = later(loadMessages, 300)

// An event carries the ticket without its timeline: the entry joins the one already loaded, if any.
function withEntry(known, event) {
  const timeline = known?.timeline
  if (!timeline || event.folded) return { ...event.ticket, timeline }
  const entry = { at: event.at, type: event.type, by: event.by, detail: event.detail }
  // The timeline fetched on opening may already hold it.
  const held = timeline.some(
    (e) => e.at === entry.at && e.type === entry.type && e.by === entry.by && e.detail === entry.detail,
  )
  return { ...event.ticket, timeline: held ? timeline : [...timeline, entry] }
}

function apply(event) {
  // Only what is still open is kept, so a wall display can run for weeks.
  heardDuringLoad?.add(event.incident?.id ?? event.ticket?.id)
  if (event.type?.startsWith('incident.') && event.incident) {
    if (event.incident.status === 'active') state.incidents.set(event.incident.id, event.incident)
    else state.incidents.delete(event.incident.id)
    panel?.changed(event.incident.device)
  }
  if (event.type?.startsWith('command.') && event.command) {
    panel?.commandChanged(event.command.device)
  }
  if (event.type?.startsWith('ticket.') && event.ticket) {
    if (openStatuses.has(event.ticket.status) || state.expanded.has(event.ticket.id))
      state.tickets.set(event.ticket.id, withEntry(state.tickets.get(event.ticket.id), event))
    else state.tickets.delete(event.ticket.id)
    if (event.type === 'ticket.notified' || event.type === 'ticket.notification_failed') refreshMessages()
    refreshKpis()
  }
  alerts?.heard(event)
  schedule()
}

// Issue 19: new critical tickets ring here (alert.js), named as the console names them.
let alerts = null
function describeAlert(ticket) {
  const site = state.sites.find((s) => s.id === ticket.site)
  const zone = site?.zones.find((z) => z.id === ticket.zone)
  const where = [ticket.device, zone?.name ?? ticket.zone, site?.name ?? ticket.site]
    .filter(Boolean)
    .join(', ')
  return {
    what: ticket.title ?? state.rules.get(ticket.rule) ?? ticket.rule,
    where,
    recording: site?.voiceMessageUrl,
  }
}

let socket = null
function connect(attempt = 0) {
  if (!state.key) return
  socket?.close()
  const live = $('live')
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  // Browsers cannot set headers on a WebSocket: the key travels as the second subprotocol.
  const current = new WebSocket(`${scheme}://${location.host}/ws`, ['vigie', state.key])
  socket = current
  let opened = false
  current.onopen = () => {
    opened = true
    live.dataset.state = 'live'
    live.textContent = 'live'
    // Whatever happened while disconnected is fetched again.
    if (attempt > 0) loadAll().then(schedule, () => {})
  }
  current.onmessage = (message) => {
    try {
      apply(JSON.parse(message.data))
    } catch {
      // One bad event must not stop the feed.
    }
  }
  current.onclose = (close) => {
    // A socket replaced by a newer one, or closed by signing out, stays closed.
    if (socket !== current || !state.key) return
    if (close.code === 1008) {
      live.dataset.state = 'refused'
      live.textContent = 'key refused'
      return signOut('The API key was refused')
    }
    live.dataset.state = 'reconnecting'
    live.textContent = 'reconnecting…'
    const wait = Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))
    setTimeout(() => connect(opened ? 1 : attempt + 1), wait)
  }
}

// ---- render ----

let pending = false
function schedule() {
  if (pending) return
  pending = true
  setTimeout(() => {
    pending = false
    render()
  }, 30)
}

const clock = (iso) =>
  iso
    ? new Date(iso).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hour12: false,
      })
    : ''
function age(iso) {
  const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000))
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}
const minutes = (spread) => (spread ? `${spread.p50.toFixed(spread.p50 < 10 ? 1 : 0)} min` : '—')
const percent = (value) => (value === null || value === undefined ? '—' : `${Math.round(value)} %`)

function openTickets() {
  return [...state.tickets.values()]
    .filter((t) => openStatuses.has(t.status) && (!state.site || t.site === state.site))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}

function renderKpis() {
  const k = state.kpis
  const tiles = [
    [
      'Time to first notice',
      minutes(k?.timeToFirstNoticeMinutes),
      'p50, detection → first customer message',
      (d) => d.timeToFirstNoticeMinutes?.p50,
    ],
    [
      'Time to acknowledge',
      minutes(k?.timeToAcknowledgeMinutes),
      'p50',
      (d) => d.timeToAcknowledgeMinutes?.p50,
    ],
    [
      'Time to resolve',
      minutes(k?.timeToResolveMinutes),
      k?.timeToResolveMinutes ? `p90 ${k.timeToResolveMinutes.p90.toFixed(0)} min` : 'p50',
      (d) => d.timeToResolveMinutes?.p50,
    ],
    ['SLA met', percent(k?.slaMetPercent), `${k?.tickets ?? 0} tickets`, (d) => d.slaMetPercent],
    [
      'First-visit fix',
      percent(k?.firstVisitFixPercent),
      'resolved in one visit',
      (d) => d.firstVisitFixPercent,
    ],
    [
      'Before customers called',
      percent(k?.resolvedBeforeCustomerContactPercent),
      'resolved before any contact',
      (d) => d.resolvedBeforeCustomerContactPercent,
    ],
    ['CSAT', percent(k?.csatPercent), `${k?.csatAnswers ?? 0} answers (4–5 of 5)`, (d) => d.csatPercent],
  ]
  const trend = (name, value) => (state.trend ? trendMarkup({ days: state.trend, value, name }) : '')
  $('kpis').innerHTML = tiles
    .map(
      ([name, value, hint, daily]) =>
        `<div class="tile" title="${esc(hint)}"><span>${esc(name)}</span><b>${esc(value)}</b><span>${esc(hint)}</span>${trend(name, daily)}</div>`,
    )
    .join('')
}

function deviceStates(tickets) {
  const states = new Map()
  const zones = new Set()
  for (const incident of state.incidents.values())
    if (incident.status === 'active' && incident.device) states.set(incident.device, 'incident')
  for (const t of tickets) {
    if (t.device) {
      const now = states.get(t.device)
      if (!now || now === 'incident' || severityRank[t.severity] > severityRank[now])
        states.set(t.device, t.severity)
    } else if (t.zone) zones.add(t.zone)
  }
  return { stateOf: (id) => states.get(id) ?? 'ok', alarmedZones: zones }
}

function renderPlan(tickets) {
  const site = state.sites.find((s) => s.id === state.site)
  if (!site) return
  const { stateOf, alarmedZones } = deviceStates(tickets)
  const svg = $('plan')
  const box = svg.getBoundingClientRect()
  // Fewer units across a phone's width keep the labels readable there.
  const width = box.width > 0 && box.width < 600 ? 480 : 1000
  // The drawing takes the element's own shape: wide on a desk, taller on a phone.
  const height = Math.round(width * Math.min(1.4, Math.max(0.45, box.height / (box.width || 1))))
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`)
  svg.innerHTML = planMarkup({
    width,
    height,
    site,
    devices: state.devices.filter((d) => d.site === site.id),
    technicians: state.technicians,
    stateOf,
    alarmedZones,
  })
}

const entryName = (type) => type.replace('ticket.', '').replaceAll('_', ' ')

function timelineMarkup(ticket) {
  if (!ticket.timeline) return '<li class="empty">loading…</li>'
  const entries = ticket.timeline.map(
    (e) =>
      `<li><time>${esc(clock(e.at))}</time>${esc(entryName(e.type))} <small>${esc(e.by)}</small>${e.detail ? ` — ${esc(e.detail)}` : ''}</li>`,
  )
  // Repeats counted instead of listed once the timeline grew long.
  const folded = Object.entries(ticket.folded ?? {}).map(
    ([type, count]) =>
      `<li class="folded">${esc(entryName(type))} <small>× ${esc(count)} more, counted</small></li>`,
  )
  return [...entries, ...folded].join('')
}

function renderTickets(tickets) {
  $('ticket-count').textContent = String(tickets.length)
  if (tickets.length === 0) {
    $('tickets').innerHTML = '<li class="empty">No open ticket. All quiet.</li>'
    return
  }
  const technicianName = (id) => state.technicians.find((t) => t.id === id)?.name ?? id
  $('tickets').innerHTML = tickets
    .map((t) => {
      const who = t.assignee
        ? `with ${technicianName(t.assignee)}`
        : t.offer
          ? `offered to ${technicianName(t.offer.technician)}`
          : 'nobody yet'
      const open = state.expanded.has(t.id)
      return `<li class="ticket" data-ticket="${esc(t.id)}" data-status="${esc(t.status)}">
<button type="button" aria-expanded="${open}"><span class="severity sev-${esc(t.severity)}">${esc(t.severity)}</span>
<span class="what">${esc(state.rules.get(t.rule) ?? t.rule)}</span><span class="status" data-status="${esc(t.status)}">${esc(t.status.replace('_', ' '))}</span>
<span class="where">${esc([t.device, t.zone].filter(Boolean).join(' · '))} — ${esc(age(t.createdAt))} ago</span><span class="who">${esc(who)}</span></button>
${open ? `<ol class="timeline">${timelineMarkup(t)}</ol>` : ''}</li>`
    })
    .join('')
}

function renderMessages() {
  if (state.messages.length === 0) {
    $('messages').innerHTML = '<li class="empty">No message sent yet.</li>'
    return
  }
  $('messages').innerHTML = state.messages
    .map(
      (m) =>
        `<li data-status="${esc(m.status)}"><time>${esc(clock(m.sentAt))}</time><span class="channel">${esc(m.channel)}</span><span>${esc(m.template)} → ${esc(m.audience)}${m.audience === 'customer' ? ` <a href="/customers/${esc(encodeURIComponent(m.recipient))}">${esc(m.recipient)}</a>` : ''} ${esc(m.to)}</span><span data-status="${esc(m.status)}">${esc(m.status)}</span></li>`,
    )
    .join('')
}

function render() {
  const tickets = openTickets()
  renderKpis()
  renderPlan(tickets)
  renderTickets(tickets)
  renderMessages()
}

// ---- wiring ----

let panel = null

async function toggleTicket(id) {
  if (state.expanded.has(id)) state.expanded.delete(id)
  else {
    state.expanded.add(id)
    const known = state.tickets.get(id)
    if (known && !known.timeline) {
      const full = await optional(api(`/api/tickets/${encodeURIComponent(id)}`), null)
      if (full) state.tickets.set(id, full)
    }
  }
  schedule()
}

function signOut(reason = '') {
  forgetKey()
  state.key = null
  alerts?.clear()
  $('console').hidden = true
  panel?.close()
  $('sign-out').hidden = true
  $('sign-in').hidden = false
  $('sign-in-error').textContent = reason
}

async function start() {
  $('sign-in').hidden = true
  $('console').hidden = false
  $('sign-out').hidden = false
  try {
    // Connect first, so nothing that happens while the lists load is missed.
    connect()
    await loadAll()
    render()
  } catch (err) {
    signOut(err instanceof Unauthorised ? err.message : `The console could not load: ${err.message}`)
  }
}

document.addEventListener('DOMContentLoaded', () => {
  alerts = createTicketAlerts({
    describe: describeAlert,
    statusOf: (id) => state.tickets.get(id)?.status ?? null,
  })
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault()
    keepKey($('key').value.trim())
    state.key = $('key').value.trim()
    $('key').value = ''
    start()
  })
  $('sign-out').addEventListener('click', () => signOut())
  window.addEventListener('resize', schedule)
  panel = createDevicePanel({
    element: $('device-panel'),
    api,
    post,
    nameOf: (id) => state.devices.find((d) => d.id === id)?.name,
  })
  const openDevice = (event) => {
    const mark = event.target.closest('[data-device]')
    if (mark) panel.open(mark.dataset.device)
  }
  $('plan').addEventListener('click', openDevice)
  $('plan').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') openDevice(event)
  })
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') panel.close()
  })
  $('site').addEventListener('change', () => {
    state.site = $('site').value
    loadKpis()
    schedule()
  })
  $('tickets').addEventListener('click', (event) => {
    const row = event.target.closest('.ticket > button')
    if (row) toggleTicket(row.parentElement.dataset.ticket)
  })
  // Positions and delivery receipts are not on /ws: a light poll keeps them fresh.
  setInterval(() => state.key && loadTechnicians(), 5000)
  setInterval(() => state.key && loadMessages(), 15_000)
  setInterval(() => state.key && schedule(), 30_000)
  state.key = takeKey()
  if (state.key) start()
  else signOut()
})
