import type { Device, SiteFile } from '../config/index.ts'
import { escapeHtml } from '../domain/index.ts'
import type { Ticket } from '../rules/index.ts'
import { type DeviceCommandsView, deviceCommandsSection } from './technician-commands.ts'

export type TechnicianPageWorld = Pick<SiteFile, 'sites' | 'devices' | 'rules'>

/** The buttons a technician sees: what the ticket's state lets them do next, and only on their own ticket. */
export function technicianActions(ticket: Ticket, technician: string): string[] {
  if (ticket.offer?.technician === technician) return ['ack', 'decline']
  if (ticket.assignee !== technician) return []
  if (ticket.status === 'acknowledged') return ['en-route', 'on-site', 'resolve']
  if (ticket.status === 'en_route') return ['on-site', 'resolve']
  if (ticket.status === 'on_site') return ['resolve']
  return []
}

const labels: Record<string, string> = {
  ack: 'Accept',
  decline: 'Decline',
  'en-route': 'En route',
  'on-site': 'On site',
}

/** Hours and minutes on the site's own clock, which is the one the technician's watch shows. */
export const clockOf = (timeZone: string | undefined) => {
  const format = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  })
  return (iso: string) => escapeHtml(format.format(new Date(iso)))
}

function whereRows(ticket: Ticket, world: TechnicianPageWorld | undefined): string {
  const site = world?.sites.find((s) => s.id === ticket.site)
  const zone = site?.zones.find((z) => z.id === ticket.zone)
  const device: Device | undefined = world?.devices.find((d) => d.id === ticket.device)
  const place = device?.location ?? zone?.location ?? site?.location
  const rows = [
    ['Site', site?.name ?? ticket.site],
    ['Zone', zone?.name ?? ticket.zone],
    ['Device', device ? `${device.name ?? device.id} (${device.kind})` : ticket.device],
  ]
    .filter((row): row is [string, string] => Boolean(row[1]))
    .map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`)
  // geo: opens the phone's own maps app; the page itself loads nothing from the internet.
  if (place)
    rows.push(
      `<dt>Position</dt><dd><a href="geo:${place.lat},${place.lon}">${place.lat.toFixed(5)}, ${place.lon.toFixed(5)}</a></dd>`,
    )
  const links = [
    ['camera', 'Camera'],
    ['intercom', 'Intercom'],
  ] as const
  for (const [kind, label] of links) {
    const url = device?.links?.[kind]
    if (url)
      rows.push(
        `<dt>${label}</dt><dd><a class="link-${kind}" href="${escapeHtml(url)}" rel="noreferrer">${label} of ${escapeHtml(device?.id ?? '')}</a></dd>`,
      )
  }
  return `<dl class="place">${rows.join('')}</dl>`
}

function buttons(ticket: Ticket, token: string, technician: string): string {
  const base = escapeHtml(`/t/${token}`)
  const actions = technicianActions(ticket, technician)
  const simple = actions
    .filter((a) => a !== 'resolve')
    .map(
      (a) =>
        `<form method="post" action="${base}/${a}"><button class="action action-${a}" name="go" value="${a}">${labels[a]}</button></form>`,
    )
    .join('')
  const resolve = actions.includes('resolve')
    ? `<form method="post" action="${base}/resolve" class="resolve">
<label for="note">What was done</label><textarea id="note" name="note" maxlength="2000" rows="3"></textarea>
<button class="action action-resolve">Resolved</button></form>`
    : ''
  return simple || resolve ? `<div class="actions">${simple}${resolve}</div>` : ''
}

function offerLine(ticket: Ticket, technician: string, time: (iso: string) => string): string {
  const offer = ticket.offer
  if (offer?.technician !== technician) return ''
  const trip =
    offer.distanceKm === undefined
      ? ''
      : ` — ${offer.distanceKm.toFixed(1)} km, about ${offer.etaMinutes} min`
  return `<p class="offer">Offered to you until ${time(offer.expiresAt)}${escapeHtml(trip)}</p>`
}

/**
 * The page behind `/t/<token>`: what, where, the device's links, the buttons this technician may press,
 * "share my position", the device's commands and the timeline. Plain forms, so it works on any phone; the
 * scripts only share position and send device commands.
 */
export function technicianPage({
  ticket,
  token,
  technician,
  world,
  message,
  commands,
}: {
  ticket: Ticket
  token: string
  technician: string
  world?: TechnicianPageWorld
  message?: string
  /** The device's commands, when this technician may send them from here (issue 19). */
  commands?: DeviceCommandsView | null
}): string {
  const rule = world?.rules.find((r) => r.id === ticket.rule)
  const time = clockOf(world?.sites.find((s) => s.id === ticket.site)?.timezone)
  const title = rule?.name ?? ticket.rule
  const mine = ticket.assignee === technician || ticket.offer?.technician === technician
  const timeline = ticket.timeline
    .map(
      (e) =>
        `<li><time>${time(e.at)}</time> ${escapeHtml(e.type.replace('ticket.', '').replaceAll('_', ' '))}${e.detail ? ` — ${escapeHtml(e.detail)}` : ''}</li>`,
    )
    .join('')
  const flash = message ? `<p class="message" role="status">${escapeHtml(message)}</p>` : ''
  const share = mine
    ? `<div class="share"><button id="share-position" type="button" data-url="${escapeHtml(`/t/${token}/position`)}">Share my position</button><span id="share-status" role="status"></span></div>`
    : ''
  const deviceCommands = commands ? deviceCommandsSection({ view: commands, token, time }) : ''
  const commandScript = commands
    ? '<script type="module" src="/console/technician-commands.js"></script>'
    : ''
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigie — ${escapeHtml(title)}</title><link rel="stylesheet" href="/console/console.css"></head>
<body class="technician"><main>
<header><span class="severity sev-${escapeHtml(ticket.severity)}">${escapeHtml(ticket.severity)}</span>
<h1>${escapeHtml(title)}</h1>
<p class="status" id="status" data-status="${escapeHtml(ticket.status)}">${escapeHtml(ticket.status.replace('_', ' '))}</p></header>
${flash}${offerLine(ticket, technician, time)}${whereRows(ticket, world)}${buttons(ticket, token, technician)}${share}${deviceCommands}
<h2>Timeline</h2><ol class="timeline">${timeline}</ol>
<p class="ticket-id">Ticket ${escapeHtml(ticket.id)}</p></main>
<script type="module" src="/console/technician.js"></script>${commandScript}</body></html>`
}
