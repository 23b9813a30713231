// Issue 19, "the technician page offers the commands of its device": the assignee of an open ticket sends a
// command through the signed link (/t/<token>/commands), a real MQTT device answers, the page's list shows it.
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  answeringDevice,
  forcedDoorOffered,
  technicianCommandsSite,
  technicianLinks,
} from '../support/technician-commands-site.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

type Line = { id: string; name: string; status: string; time: string; detail: string | null }

let vigie: TestService
let linkFor: Awaited<ReturnType<typeof technicianLinks>>
const clients: MqttClient[] = []

beforeAll(async () => {
  vigie = await startTestService({ site: technicianCommandsSite })
  linkFor = await technicianLinks(vigie)
})
afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => {})
  await vigie?.close()
})

const page = (token: string) => fetch(`${vigie.publicUrl}/t/${token}`)
const press = (token: string, action: string, form = '') =>
  fetch(`${vigie.publicUrl}/t/${token}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  })
async function sendCommand(token: string, body: unknown, type = 'application/json') {
  const res = await fetch(`${vigie.publicUrl}/t/${token}/commands`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { message: string } },
  }
}
async function listed(token: string) {
  const res = await fetch(`${vigie.publicUrl}/t/${token}/commands`)
  return { status: res.status, body: (await res.json()) as { items: Line[]; error?: { message: string } } }
}

/** A forced door on `device`, accepted by tech-1 through the page: their link, and the ticket. */
async function acceptedTicket(device: string) {
  const ticket = await forcedDoorOffered(vigie, device, 'tech-1')
  const token = linkFor(ticket.id, 'tech-1')
  expect((await press(token, 'ack')).status).toBe(303)
  return { ticket, token }
}

describe('device commands on the technician page', () => {
  it('offers the assignee the commands of the device, sends one the device answers, and lists it done', async () => {
    const offered = await forcedDoorOffered(vigie, 'door-1', 'tech-1')
    // After the reading: publish() connects with the device's client id, which would take this session over.
    clients.push(await answeringDevice(vigie, 'door-1', 'locked for 30 s'))
    const token = linkFor(offered.id, 'tech-1')
    // The other technician, to whom it was not offered, sees no commands.
    expect(await (await page(linkFor(offered.id, 'tech-2'))).text()).not.toContain('Device commands')
    expect((await press(token, 'ack')).status).toBe(303)
    const res = await page(token)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    const html = await res.text()
    expect(html).toContain('<h2>Device commands</h2>')
    expect(html).toContain('<form class="command" data-command="buzzer"><button class="command-send"')
    expect(html).toMatch(
      /<input id="cmd-lock-seconds" name="seconds" data-type="integer" type="number"[^>]* min="1" max="3600" required>/,
    )
    expect(html).toMatch(
      /<select id="cmd-mode-to" [^>]*required><option>day<\/option><option>night<\/option><\/select>/,
    )
    expect(html).toMatch(
      /<input id="cmd-mode-note" name="note" data-type="string" data-optional="true" type="text" maxlength="20">/,
    )
    expect(html).toContain('<script type="module" src="/console/technician-commands.js"></script>')
    expect(html).not.toMatch(/<script>|<style|style="/)
    const script = await fetch(`${vigie.publicUrl}/console/technician-commands.js`)
    expect(script.status).toBe(200)

    const sent = await sendCommand(token, { name: 'lock', args: { seconds: 30 } })
    expect(sent.status, JSON.stringify(sent.body)).toBe(201)
    expect(sent.body).toMatchObject({ name: 'lock', status: 'queued', detail: null })
    const done = await waitFor(async () => {
      const line = (await listed(token)).body.items.find((l) => l.id === sent.body.id)
      return line?.status === 'done' && line
    })
    expect(done).toMatchObject({ name: 'lock', detail: 'locked for 30 s' })
    expect(done.time).toMatch(/^\d\d:\d\d$/)
    // The page drawn again lists it done, escaped, with the device's words.
    expect(await (await page(token)).text()).toContain(
      `<li data-command="${sent.body.id as string}" data-status="done">`,
    )

    // The same command as the API knows it: asked by the technician, linked to the ticket, on its timeline.
    const api = await vigie.api<{ items: { id: string; by: string; ticket?: string; args: unknown }[] }>(
      '/api/devices/door-1/commands',
    )
    expect(api.items.find((c) => c.id === sent.body.id)).toMatchObject({
      by: 'tech-1',
      ticket: offered.id,
      args: { seconds: 30 },
    })
    const ticket = await vigie.api<{ timeline: { detail: string | null }[] }>(`/api/tickets/${offered.id}`)
    expect(ticket.timeline.map((e) => e.detail)).toContain(`command lock ${sent.body.id as string} queued`)
  })

  it('refuses a stranger, a tampered or expired link, the other technician, and a closed ticket', async () => {
    const { ticket, token } = await acceptedTicket('door-2')
    const other = linkFor(ticket.id, 'tech-2')
    const altered = `${token.slice(0, -2)}${token.endsWith('A') ? 'BB' : 'AA'}`
    const expired = linkFor(ticket.id, 'tech-1', Date.now() - 1)
    for (const bad of ['not-a-token-at-all', altered, expired]) {
      expect((await sendCommand(bad, { name: 'buzzer' })).status).toBe(403)
      expect((await listed(bad)).status).toBe(403)
    }
    // Too short to be a link at all: a bad request, as the page answers, and never a 500.
    for (const bad of ['x', 'AAAA.BBBB']) {
      expect((await sendCommand(bad, { name: 'buzzer' })).status).toBe(400)
      expect((await listed(bad)).status).toBe(400)
    }
    // The other technician's link shows the ticket, but no commands, and sends none.
    expect(await (await page(other)).text()).not.toContain('Device commands')
    const theirs = await sendCommand(other, { name: 'buzzer' })
    expect(theirs.status).toBe(403)
    expect(theirs.body.error?.message).toContain('open ticket assigned to them')
    expect((await listed(other)).status).toBe(403)

    expect((await press(token, 'resolve', 'note=fixed')).status).toBe(303)
    expect(await (await page(token)).text()).not.toContain('Device commands')
    const closed = await sendCommand(token, { name: 'buzzer' })
    expect(closed.status).toBe(403)
    expect((await listed(token)).status).toBe(403)
    // Nothing reached the device from any of these.
    const api = await vigie.api<{ items: unknown[] }>('/api/devices/door-2/commands')
    expect(api.items).toEqual([])
  })

  it('refuses a command the kind does not take, bad args, fields the page does not send, and a huge body', async () => {
    const { token } = await acceptedTicket('door-3')
    const undeclared = await sendCommand(token, { name: 'selfdestruct' })
    expect(undeclared.status).toBe(400)
    expect(undeclared.body.error?.message).toContain('does not take the command "selfdestruct"')
    for (const args of [{ seconds: 0 }, { seconds: 3601 }, { seconds: 1.5 }, { seconds: '30' }, {}]) {
      const res = await sendCommand(token, { name: 'lock', args })
      expect(res.status, JSON.stringify(args)).toBe(400)
      expect(res.body.error?.message).toContain('args.seconds')
    }
    const extraArg = await sendCommand(token, { name: 'lock', args: { seconds: 5, force: true } })
    expect(extraArg.status).toBe(400)
    expect(extraArg.body.error?.message).toContain('args.force')
    const enumOut = await sendCommand(token, { name: 'mode', args: { to: 'party' } })
    expect(enumOut.status).toBe(400)
    // The ticket is the link's and the ttl the API's: a body naming either is refused.
    for (const body of [
      { name: 'buzzer', ticket: 'someone-else' },
      { name: 'buzzer', ttl: 604_800 },
      { name: 42 },
      {},
      [],
    ]) {
      const res = await sendCommand(token, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error?.message).toMatch(/^Send \{ name, args\? \}/)
    }
    expect((await sendCommand(token, 'name=buzzer', 'text/plain')).status).toBe(415)
    expect((await sendCommand(token, '{"name":', 'application/json')).status).toBe(400)
    const huge = await sendCommand(token, { name: 'mode', args: { to: 'day', note: 'x'.repeat(50_000) } })
    expect(huge.status).toBe(413)
    expect(huge.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    const api = await vigie.api<{ items: unknown[] }>('/api/devices/door-3/commands')
    expect(api.items).toEqual([])
    // A good one still goes through after all of that.
    expect((await sendCommand(token, { name: 'mode', args: { to: 'night' } })).status).toBe(201)
  })
})
