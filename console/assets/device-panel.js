// A device's panel: its latest state, whether it is online, and its readings charted over an hour, a day or a week.
import { chartMarkup } from './chart.js'
import { argsOf, commandsMarkup, loadCommands } from './device-commands.js'
import { esc } from './plan.js'

const hourMs = 3_600_000
const ranges = [
  { id: 'hour', label: '1 h', ms: hourMs },
  { id: 'day', label: '24 h', ms: 24 * hourMs },
  { id: 'week', label: '7 d', ms: 7 * 24 * hourMs },
]
// What every stored reading carries besides its payload.
const envelope = new Set(['type', 'ts', 'seq', 'device'])
// Readings are not on /ws: an open panel asks again this often.
const refreshMs = 15_000

/** The fields a chart can draw, from the device's latest readings of each type: numbers and booleans. */
function chartable(detail) {
  const fields = new Map()
  for (const reading of Object.values(detail.latestByType ?? {}))
    for (const [name, value] of Object.entries(reading))
      if (!envelope.has(name) && (typeof value === 'number' || typeof value === 'boolean'))
        fields.set(name, typeof value === 'boolean')
  return fields
}

const when = (iso) => (iso ? new Date(iso).toLocaleString([], { hour12: false }) : 'never')

function stateMarkup(detail) {
  const latest = Object.values(detail.latestByType ?? {})
    .flatMap((reading) =>
      Object.entries(reading)
        .filter(([name]) => !envelope.has(name))
        .map(
          ([name, value]) =>
            `<dt>${esc(name)}</dt><dd>${esc(typeof value === 'object' ? JSON.stringify(value) : value)}</dd>`,
        ),
    )
    .join('')
  const online = detail.online ? 'online' : 'offline'
  return `<p class="device-state"><span class="online" data-online="${detail.online}">${online}</span>
last seen ${esc(when(detail.lastSeen))}${detail.deadLetters > 0 ? ` · <span class="dead">${esc(detail.deadLetters)} refused payloads</span>` : ''}</p>
<dl class="latest">${latest || '<dt>latest</dt><dd>no reading yet</dd>'}</dl>`
}

/**
 * The panel in `element`, filled from the API through `api(path)`. `open(id)` shows a device; an incident
 * event of that device (`changed(id)`) redraws it; closing stops its refresh.
 */
export function createDevicePanel({ element, api, post, nameOf }) {
  const view = { id: null, detail: null, range: 'hour', field: null, series: null, error: null, loads: 0 }
  let timer = null

  async function load() {
    const id = view.id
    const ticket = ++view.loads
    try {
      const detail = await api(`/api/devices/${encodeURIComponent(id)}`)
      const fields = chartable(detail)
      if (!fields.has(view.field)) view.field = fields.keys().next().value ?? null
      const range = ranges.find((r) => r.id === view.range)
      const to = Date.now()
      const query = new URLSearchParams({
        from: new Date(to - range.ms).toISOString(),
        to: new Date(to).toISOString(),
        points: '240',
      })
      if (view.field) query.set('field', view.field)
      const [series, commands] = await Promise.all([
        view.field ? api(`/api/devices/${encodeURIComponent(id)}/series?${query}`) : null,
        loadCommands(api, id).catch(() => null),
      ])
      // A later load (another device, range or field) has the last word.
      if (ticket !== view.loads || id !== view.id) return
      Object.assign(view, {
        detail,
        series,
        fields,
        commands,
        shown: { range: range.id, field: view.field },
        error: null,
      })
    } catch (err) {
      if (ticket !== view.loads || id !== view.id) return
      view.error = err.message
    }
    render()
  }

  function chartPart() {
    if (view.error) return `<p class="error" role="alert">${esc(view.error)}</p>`
    if (!view.series) return '<p class="empty">This device sends nothing a chart can draw.</p>'
    const boolean = view.fields.get(view.shown.field) === true
    const s = view.series
    const note = s.truncated ? ` — the first ${s.scanned} readings only` : ''
    const kept =
      s.keptSince && Date.parse(s.keptSince) > Date.parse(s.from) + s.bucketMs
        ? `<p class="kept-note">Readings are kept from ${esc(when(s.keptSince))} only (DEVICE_READINGS_RETENTION).</p>`
        : ''
    // Named by what it draws, which lags the buttons until the new series arrives.
    const { range, field } = view.shown
    // Drawn at the panel's own width, so its text keeps its size on a phone instead of being squeezed.
    const width = Math.round(Math.min(900, Math.max(300, element.clientWidth - 34 || 640)))
    return `<svg class="chart" viewBox="0 0 ${width} 260" role="img" aria-label="${esc(`${field} over the last ${range}`)}" data-field="${esc(field)}" data-shown="${range}" data-buckets="${s.buckets.length}">${chartMarkup({ series: s, width, height: 260, boolean })}</svg>
<p class="chart-legend"><i class="key-mean"></i>mean <i class="key-band"></i>min–max <i class="key-threshold"></i>threshold <i class="key-incident"></i>incident · ${esc(s.scanned)} readings${esc(note)}</p>${kept}`
  }

  function render() {
    if (!view.id) return
    const d = view.detail
    const title = d ? (d.name ?? d.id) : (nameOf(view.id) ?? view.id)
    const where = d ? [d.kind, d.zone, d.site].filter(Boolean).join(' · ') : ''
    const rangeButtons = ranges
      .map(
        (r) =>
          `<button type="button" data-range="${r.id}" aria-pressed="${r.id === view.range}">${esc(r.label)}</button>`,
      )
      .join('')
    const fieldPick =
      view.fields && view.fields.size > 1
        ? `<label>Reading <select class="field-pick">${[...view.fields.keys()].map((f) => `<option value="${esc(f)}"${f === view.field ? ' selected' : ''}>${esc(f)}</option>`).join('')}</select></label>`
        : ''
    element.innerHTML = `<header class="panel-head"><h2>${esc(title)} <small>${esc(view.id)}</small></h2><button type="button" class="close" aria-label="Close the device panel">×</button></header>
<p class="where">${esc(where)}</p>
${d ? stateMarkup(d) : '<p class="empty">loading…</p>'}
<div class="chart-controls"><span class="ranges" role="group" aria-label="Time range">${rangeButtons}</span>${fieldPick}</div>
${d ? chartPart() : ''}
${view.commands ? commandsMarkup(view.commands, view.commandMessage) : ''}`
    element.dataset.device = view.id
  }

  element.addEventListener('click', (event) => {
    if (event.target.closest('.close')) return close()
    const range = event.target.closest('[data-range]')
    if (range && range.dataset.range !== view.range) {
      view.range = range.dataset.range
      render()
      load()
    }
  })
  // The chart is drawn at the panel's width: a turned phone or a resized window draws it again.
  window.addEventListener('resize', () => view.id && render())
  element.addEventListener('submit', async (event) => {
    const form = event.target.closest('.command-form')
    if (!form || !view.commands) return
    event.preventDefault()
    const id = view.id
    try {
      const sent = await post(`/api/devices/${encodeURIComponent(id)}/commands`, {
        name: form.dataset.command,
        args: argsOf(form, view.commands.catalogue),
      })
      view.commandMessage = `${sent.name}: ${sent.status}`
    } catch (err) {
      view.commandMessage = `${form.dataset.command} refused: ${err.message}`
    }
    if (id === view.id) refreshCommands()
  })
  // A command's answer comes over /ws: only the list is read again, the chart stays.
  async function refreshCommands() {
    const id = view.id
    const commands = await loadCommands(api, id).catch(() => null)
    if (id !== view.id || !commands) return
    view.commands = commands
    render()
  }
  element.addEventListener('change', (event) => {
    if (!event.target.matches('.field-pick')) return
    view.field = event.target.value
    load()
  })

  function open(id) {
    if (view.id !== id)
      Object.assign(view, {
        id,
        detail: null,
        series: null,
        fields: null,
        field: null,
        shown: null,
        commands: null,
        commandMessage: null,
      })
    element.hidden = false
    render()
    load()
    clearInterval(timer)
    timer = setInterval(load, refreshMs)
  }

  function close() {
    clearInterval(timer)
    timer = null
    view.id = null
    view.loads++
    element.hidden = true
    element.innerHTML = ''
    delete element.dataset.device
  }

  return {
    open,
    close,
    /** An incident of this device opened or cleared: the chart's marks change. */
    changed: (id) => {
      if (id && id === view.id) load()
    },
    /** One of this device's commands moved (sent, done, failed, expired). */
    commandChanged: (id) => {
      if (id && id === view.id) refreshCommands()
    },
  }
}
