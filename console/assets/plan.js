// The site plan as SVG, drawn from coordinates only: no map tiles, nothing from the internet.

const margin = 48
// Technicians further than this from the site are pinned to the edge rather than shrinking the plan.
const nearMetres = 1500

export const esc = (text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )

/** Local metres east and north of the site's own point: flat enough at the scale of a terminal. */
function toMetres(origin) {
  const cos = Math.cos((origin.lat * Math.PI) / 180)
  return ({ lat, lon }) => [(lon - origin.lon) * 111_320 * cos, (lat - origin.lat) * 110_540]
}

function fitToPlan(points, width, height) {
  const xs = points.map((p) => p[0])
  const ys = points.map((p) => p[1])
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  // At least 40 m across, so one device alone is not blown up to the whole plan.
  const scale = Math.min(
    (width - 2 * margin) / Math.max(maxX - minX, 40),
    (height - 2 * margin) / Math.max(maxY - minY, 40),
  )
  const [cx, cy] = [(minX + maxX) / 2, (minY + maxY) / 2]
  return ([x, y]) => [width / 2 + (x - cx) * scale, height / 2 - (y - cy) * scale]
}

const clamp = (value, low, high) => Math.min(high, Math.max(low, value))

/**
 * The SVG markup of one site: zones as boxes around their devices, devices coloured by state, technicians
 * as diamonds where they last reported. `stateOf(device)` and `alarmedZones` come from the open tickets;
 * width and height are the viewBox's, shaped like the element so the plan fills it.
 */
export function planMarkup({ site, devices, technicians, stateOf, alarmedZones, width, height }) {
  const metres = toMetres(site.location)
  const placed = devices.filter((d) => d.location).map((d) => ({ device: d, at: metres(d.location) }))
  const near = technicians
    .filter((t) => t.position)
    .map((t) => ({ technician: t, at: metres(t.position) }))
    .map((t) => ({ ...t, near: Math.hypot(t.at[0], t.at[1]) <= nearMetres }))
  const anchors = [[0, 0], ...placed.map((p) => p.at), ...near.filter((t) => t.near).map((t) => t.at)]
  for (const zone of site.zones) if (zone.location) anchors.push(metres(zone.location))
  const project = fitToPlan(anchors, width, height)

  const zones = site.zones
    .map((zone) => {
      const points = placed.filter((p) => p.device.zone === zone.id).map((p) => project(p.at))
      if (zone.location) points.push(project(metres(zone.location)))
      if (points.length === 0) return ''
      const xs = points.map((p) => p[0])
      const ys = points.map((p) => p[1])
      const [x, y] = [Math.min(...xs) - 26, Math.min(...ys) - 30]
      const [w, h] = [Math.max(...xs) - x + 26, Math.max(...ys) - y + 26]
      const alarm = alarmedZones.has(zone.id) ? ' alarm' : ''
      return `<g class="zone${alarm}" data-zone="${esc(zone.id)}"><rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" rx="10"/><text x="${(x + 8).toFixed(1)}" y="${(y + 16).toFixed(1)}">${esc(zone.name)}</text></g>`
    })
    .join('')

  const deviceMarks = placed
    .map(({ device, at }) => {
      const [x, y] = project(at)
      const state = stateOf(device.id)
      // Only devices that need a look are named on the plan; the rest say who they are on hover.
      const label =
        state === 'ok'
          ? ''
          : `<text x="${x.toFixed(1)}" y="${(y + 23).toFixed(1)}" text-anchor="middle">${esc(device.id)}</text>`
      return `<g class="device state-${state}" data-device="${esc(device.id)}" data-state="${state}" tabindex="0" role="button"><title>${esc(device.name ?? device.id)} (${esc(device.kind)}): ${state}</title><circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="9"/>${label}</g>`
    })
    .join('')

  const technicianMarks = near
    .map(({ technician, at, near }) => {
      let [x, y] = project(at)
      x = clamp(x, 14, width - 14)
      y = clamp(y, 14, height - 14)
      const away = near ? '' : ` (${(Math.hypot(at[0], at[1]) / 1000).toFixed(1)} km away)`
      const cls = technician.available ? 'technician' : 'technician away'
      return `<g class="${cls}" data-technician="${esc(technician.id)}"><title>${esc(technician.name)}${away}${technician.available ? '' : ', not available'}</title><path d="M ${x.toFixed(1)} ${(y - 10).toFixed(1)} l 10 10 l -10 10 l -10 -10 z"/><text x="${(x + 13).toFixed(1)}" y="${(y + 4).toFixed(1)}">${esc(technician.name)}${esc(away)}</text></g>`
    })
    .join('')

  return `${zones}${deviceMarks}${technicianMarks}`
}
