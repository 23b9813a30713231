// A device's readings as SVG: the min–max band, the mean line, the rules' thresholds and the incidents on the time axis.
import { esc } from './plan.js'

const pad = { left: 52, right: 14, top: 14, bottom: 30 }
const minute = 60_000
const timeSteps = [
  minute,
  5 * minute,
  10 * minute,
  15 * minute,
  30 * minute,
  60 * minute,
  180 * minute,
].concat([360 * minute, 720 * minute, 1440 * minute, 2880 * minute])

/** Round steps of 1, 2 or 5 × 10ⁿ, about `count` of them across [low, high]. */
export function valueTicks(low, high, count = 5) {
  const raw = (high - low) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw
  const ticks = []
  for (let v = Math.ceil(low / step) * step; v <= high + step / 1e6; v += step)
    ticks.push(Number(v.toFixed(10)))
  return ticks
}

/** Ticks on local-time boundaries (whole minutes, hours, days), at most seven across the range. */
export function timeTicks(from, to) {
  const step = timeSteps.find((s) => (to - from) / s <= 7) ?? timeSteps.at(-1)
  // Local midnight and local hours, not UTC ones: the dispatcher reads a wall clock.
  const offset = -new Date(from).getTimezoneOffset() * minute
  const ticks = []
  for (let t = Math.ceil((from + offset) / step) * step - offset; t <= to; t += step) ticks.push(t)
  return { ticks, step }
}

function timeLabel(t, step) {
  const d = new Date(t)
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })
  if (step < 1440 * minute) return hm
  return d.toLocaleDateString([], { day: '2-digit', month: '2-digit' })
}

/** The value range the chart shows: the readings and every threshold, with a little room. */
function valueRange(buckets, thresholds, boolean) {
  if (boolean) return [-0.1, 1.1]
  const values = [...buckets.flatMap((b) => [b.min, b.max]), ...thresholds.flatMap((t) => [t.value, t.clear])]
  if (values.length === 0) return [0, 1]
  let [low, high] = [Math.min(...values), Math.max(...values)]
  if (high - low < 1e-9) [low, high] = [low - 1, high + 1]
  const room = (high - low) * 0.08
  return [low - room, high + room]
}

/** The usual spacing of the buckets that hold readings: a device reporting each minute fills one bucket in four. */
function usualGap(starts) {
  const gaps = starts.slice(1).map((t, i) => t - starts[i])
  gaps.sort((a, b) => a - b)
  return gaps[Math.floor(gaps.length / 2)] ?? 0
}

/** Buckets in runs without holes: a silence well past the device's usual pace stays a gap on the chart. */
function runsOf(buckets, bucketMs) {
  const starts = buckets.map((b) => Date.parse(b.start))
  const hole = Math.max(bucketMs * 1.5, usualGap(starts) * 3)
  const runs = []
  let run = []
  let last = null
  for (const b of buckets) {
    const at = Date.parse(b.start)
    if (last !== null && at - last > hole) {
      runs.push(run)
      run = []
    }
    run.push({ ...b, at })
    last = at
  }
  if (run.length > 0) runs.push(run)
  return runs
}

const f = (n) => n.toFixed(1)

/**
 * The chart's SVG markup for one answer of `GET /api/devices/:id/series`, sized to a `width` × `height`
 * viewBox. `boolean` draws 0/1 as closed/open; incidents without an end run to the chart's right edge.
 */
export function chartMarkup({ series, width, height, boolean = false }) {
  const from = Date.parse(series.from)
  const to = Date.parse(series.to)
  const [low, high] = valueRange(series.buckets, series.thresholds, boolean)
  const plotW = width - pad.left - pad.right
  const plotH = height - pad.top - pad.bottom
  const x = (t) => pad.left + ((t - from) / (to - from)) * plotW
  const y = (v) => pad.top + (1 - (v - low) / (high - low)) * plotH
  const mid = series.bucketMs / 2

  const parts = [
    `<rect class="plot-area" x="${pad.left}" y="${pad.top}" width="${f(plotW)}" height="${f(plotH)}"/>`,
  ]

  // Before the oldest reading the log keeps, an empty chart means "not kept", not "silent".
  const keptSince = series.keptSince ? Date.parse(series.keptSince) : from
  if (keptSince > from + series.bucketMs) {
    const edge = x(Math.min(to, keptSince))
    parts.push(
      `<g class="not-kept"><title>Readings before ${esc(new Date(keptSince).toLocaleString())} are no longer kept</title><rect class="shade" x="${pad.left}" y="${pad.top}" width="${f(edge - pad.left)}" height="${f(plotH)}"/><text x="${f(pad.left + (edge - pad.left) / 2)}" y="${f(pad.top + 16)}" text-anchor="middle">not kept</text></g>`,
    )
  }

  for (const incident of series.incidents ?? []) {
    const start = Math.max(from, Date.parse(incident.openedAt))
    const end = Math.min(to, incident.clearedAt ? Date.parse(incident.clearedAt) : to)
    const left = x(start)
    const w = Math.max(2, x(end) - left)
    const title = `${incident.rule} (${incident.severity}) from ${new Date(incident.openedAt).toLocaleString()}${incident.clearedAt ? ` to ${new Date(incident.clearedAt).toLocaleString()}` : ', still active'}`
    parts.push(
      `<g class="incident sev-${esc(incident.severity)}" data-incident="${esc(incident.id)}"><title>${esc(title)}</title><rect x="${f(left)}" y="${pad.top}" width="${f(w)}" height="${f(plotH)}"/><path d="M ${f(left)} ${f(pad.top + plotH)} l 5 8 l -10 0 z"/></g>`,
    )
  }

  const ticks = boolean ? [0, 1] : valueTicks(low, high)
  for (const v of ticks) {
    const label = boolean ? (v === 1 ? 'yes' : 'no') : String(v)
    parts.push(
      `<line class="grid" x1="${pad.left}" x2="${f(width - pad.right)}" y1="${f(y(v))}" y2="${f(y(v))}"/><text class="axis" x="${pad.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${esc(label)}</text>`,
    )
  }
  const { ticks: times, step } = timeTicks(from, to)
  for (const t of times) {
    parts.push(
      `<line class="tick" x1="${f(x(t))}" x2="${f(x(t))}" y1="${f(pad.top + plotH)}" y2="${f(pad.top + plotH + 5)}"/><text class="axis" x="${f(x(t))}" y="${f(height - 8)}" text-anchor="middle">${esc(timeLabel(t, step))}</text>`,
    )
  }

  for (const run of runsOf(series.buckets, series.bucketMs)) {
    const top = run.map((b) => `${f(x(b.at + mid))},${f(y(b.max))}`)
    const bottom = run.map((b) => `${f(x(b.at + mid))},${f(y(b.min))}`).reverse()
    if (run.length > 1) parts.push(`<polygon class="band" points="${[...top, ...bottom].join(' ')}"/>`)
    const mean = run.map((b) => `${f(x(b.at + mid))},${f(y(b.mean))}`)
    if (run.length > 1) parts.push(`<polyline class="mean" points="${mean.join(' ')}"/>`)
    else
      parts.push(`<circle class="mean-dot" cx="${f(x(run[0].at + mid))}" cy="${f(y(run[0].mean))}" r="2.5"/>`)
  }

  for (const t of series.thresholds) {
    const at = f(y(t.value))
    const word = t.kind === 'above' ? '>' : '<'
    parts.push(
      `<g class="threshold sev-${esc(t.severity)}" data-rule="${esc(t.rule)}" data-value="${esc(t.value)}"><title>${esc(`${t.rule}: ${t.kind} ${t.value}, clears at ${t.clear}`)}</title><line x1="${pad.left}" x2="${f(width - pad.right)}" y1="${at}" y2="${at}"/><text x="${f(width - pad.right - 4)}" y="${f(Number(at) - 4)}" text-anchor="end">${esc(`${t.rule} ${word} ${t.value}`)}</text></g>`,
    )
  }

  if (series.buckets.length === 0)
    parts.push(
      `<text class="empty" x="${f(pad.left + plotW / 2)}" y="${f(pad.top + plotH / 2)}" text-anchor="middle">No reading in this range</text>`,
    )
  return parts.join('')
}
