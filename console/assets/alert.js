// Issue 19: a critical ticket created while this console is open rings here, again every `repeatMs`, until it
// is acknowledged in this console or the ticket moves on (a technician acknowledged it, resolved, cancelled).
import { createAlarmSound } from './alert-sound.js'
import { esc } from './plan.js'

// An offer out is not someone on it: the alert keeps ringing while the ticket is open or only offered.
const ringingStatuses = new Set(['open', 'assigned'])
// Tickets already rung, so an event heard twice rings once; bounded for a wall display left on for weeks.
const rememberedTickets = 1000

/**
 * `describe(ticket)` gives `{ what, where, recording }` as the console knows them now; `statusOf(id)` the
 * ticket's status in the console's lists (null once gone), which catches what a reconnect missed.
 */
export function createTicketAlerts({ root = document, describe, statusOf, repeatMs = 20_000 }) {
  const banner = root.getElementById('alert-banner')
  const ringing = new Map()
  const rung = new Set()
  let timer = null

  const sound = createAlarmSound({
    controls: root.getElementById('sound'),
    onUnlock: () => ringing.size > 0 && ring(),
  })

  function messages() {
    return [...ringing.values()].map((ticket) => {
      const { what, where, recording } = describe(ticket)
      return {
        fr: `Alerte critique : ${what}. ${where}.`,
        en: `Critical alert: ${what}. ${where}.`,
        // Only a web address is played; the page's CSP further limits it to the sites' own recording origins.
        recording: recording && /^https?:\/\//i.test(recording) ? recording : null,
      }
    })
  }

  function render() {
    banner.hidden = ringing.size === 0
    banner.innerHTML = [...ringing.values()]
      .map((ticket) => {
        const { what, where } = describe(ticket)
        return `<li data-alert="${esc(ticket.id)}"><b>Critical</b> <span class="alert-what">${esc(what)}</span> <span class="alert-where">${esc(where)}</span>
<button type="button" class="alert-ack" data-ack="${esc(ticket.id)}">Acknowledge alert</button></li>`
      })
      .join('')
  }

  function ring() {
    for (const id of ringing.keys()) if (!ringingStatuses.has(statusOf(id))) ringing.delete(id)
    render()
    if (ringing.size === 0) return stop()
    sound.announce(messages())
  }

  function stop() {
    clearInterval(timer)
    timer = null
    sound.hush()
  }

  function silence(id) {
    if (!ringing.delete(id)) return
    if (ringing.size === 0) stop()
    render()
  }

  /** Every /ws event: a new critical ticket starts ringing; one that moved on stops. */
  function heard(event) {
    const ticket = event.ticket
    if (!event.type?.startsWith('ticket.') || !ticket) return
    if (!ringingStatuses.has(ticket.status)) return silence(ticket.id)
    if (event.type !== 'ticket.created' || ticket.severity !== 'critical' || rung.has(ticket.id)) return
    rung.add(ticket.id)
    if (rung.size > rememberedTickets) rung.delete(rung.values().next().value)
    ringing.set(ticket.id, ticket)
    timer ??= setInterval(ring, repeatMs)
    render()
    sound.announce(messages())
  }

  function clear() {
    ringing.clear()
    stop()
    render()
  }

  banner.addEventListener('click', (event) => {
    const button = event.target.closest('[data-ack]')
    if (button) silence(button.dataset.ack)
  })

  return { heard, clear }
}
