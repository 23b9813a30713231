// A KPI tile's 30-day trend line, from the daily figures of `GET /api/kpis/daily`.
import { esc } from './plan.js'

const width = 120
const height = 28

/**
 * The SVG of one figure over the days, oldest first; days without a value (no ticket, no answer) leave a
 * gap rather than a fall to zero. `value(day)` picks the figure from one day's KPIs.
 */
export function trendMarkup({ days, value, name }) {
  const points = days.map((day, i) => ({ i, v: value(day) })).filter((p) => p.v !== null && p.v !== undefined)
  if (points.length === 0)
    return `<svg class="trend" viewBox="0 0 ${width} ${height}" data-points="0" role="img" aria-label="${esc(`${name}: no figure in ${days.length} days`)}"></svg>`
  const values = points.map((p) => p.v)
  let [low, high] = [Math.min(...values), Math.max(...values)]
  if (high - low < 1e-9) [low, high] = [low - 1, high + 1]
  const x = (i) => (days.length === 1 ? width / 2 : (i / (days.length - 1)) * (width - 4) + 2)
  const y = (v) => 3 + (1 - (v - low) / (high - low)) * (height - 6)
  // A gap of missing days breaks the line into runs.
  const runs = []
  for (const p of points) {
    const run = runs.at(-1)
    if (run && run.at(-1).i === p.i - 1) run.push(p)
    else runs.push([p])
  }
  const lines = runs
    .map((run) =>
      run.length === 1
        ? `<circle class="point" cx="${x(run[0].i).toFixed(1)}" cy="${y(run[0].v).toFixed(1)}" r="1.6"/>`
        : `<polyline points="${run.map((p) => `${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('')
  const first = days[0]?.day ?? ''
  const label = `${name}, ${days.length} days from ${first}: from ${values[0].toFixed(1)} to ${values.at(-1).toFixed(1)}`
  return `<svg class="trend" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" data-points="${points.length}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>${lines}</svg>`
}
