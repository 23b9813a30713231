// The device panel's commands: a form per command its kind takes, and what became of the latest ones.
import { esc } from './plan.js'

/** The commands the device's kind takes and its five latest, or null for a device that takes none. */
export async function loadCommands(api, id) {
  const path = `/api/devices/${encodeURIComponent(id)}/commands`
  const [catalogue, recent] = await Promise.all([api(`${path}/catalogue`), api(`${path}?limit=5`)])
  return catalogue.commands.length > 0 ? { catalogue: catalogue.commands, recent: recent.items } : null
}

function fieldMarkup(name, spec) {
  const label = `${name}${spec.optional ? ' (optional)' : ''}`
  const required = spec.optional ? '' : ' required'
  const input = (() => {
    switch (spec.type) {
      case 'integer':
      case 'number': {
        const bounds = `${spec.min === undefined ? '' : ` min="${esc(spec.min)}"`}${spec.max === undefined ? '' : ` max="${esc(spec.max)}"`}`
        return `<input name="${esc(name)}" type="number" step="${spec.type === 'integer' ? '1' : 'any'}"${bounds}${required}>`
      }
      case 'boolean':
        return `<input name="${esc(name)}" type="checkbox">`
      case 'enum':
        return `<select name="${esc(name)}"${required}>${spec.optional ? '<option value=""></option>' : ''}${spec.values.map((v) => `<option>${esc(v)}</option>`).join('')}</select>`
      default:
        return `<input name="${esc(name)}" type="text" maxlength="${esc(spec.maxLength)}"${required}>`
    }
  })()
  return `<label>${esc(label)} ${input}</label>`
}

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false })

/** The section's markup; `message` says what became of the last press (or why it was refused). */
export function commandsMarkup({ catalogue, recent }, message) {
  const forms = catalogue
    .map(
      ({ name, args }) =>
        `<form class="command-form" data-command="${esc(name)}">${Object.entries(args)
          .map(([arg, spec]) => fieldMarkup(arg, spec))
          .join('')}<button type="submit">${esc(name)}</button></form>`,
    )
    .join('')
  const list =
    recent.length === 0
      ? '<li class="empty">No command sent yet.</li>'
      : recent
          .map(
            (c) =>
              `<li data-command-id="${esc(c.id)}" data-status="${esc(c.status)}"><time>${esc(time(c.createdAt))}</time> <b>${esc(c.name)}</b> <span class="command-status">${esc(c.status)}</span> <small>${esc(c.by)}</small>${c.detail ? ` — ${esc(c.detail)}` : ''}</li>`,
          )
          .join('')
  return `<section class="panel-commands" aria-label="Device commands"><h3>Commands</h3>${forms}
<p class="command-message" role="status">${esc(message ?? '')}</p><ol class="command-list">${list}</ol></section>`
}

/** The arguments a form holds, typed as its command declares them; an empty optional field is left out. */
export function argsOf(form, catalogue) {
  const spec = catalogue.find((c) => c.name === form.dataset.command)?.args ?? {}
  const args = {}
  for (const [name, arg] of Object.entries(spec)) {
    const field = form.elements.namedItem(name)
    if (!field) continue
    if (arg.type === 'boolean') args[name] = field.checked
    else if (field.value === '' && arg.optional) continue
    else if (arg.type === 'integer' || arg.type === 'number') args[name] = Number(field.value)
    else args[name] = field.value
  }
  return args
}
