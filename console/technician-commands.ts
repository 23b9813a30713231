import type { CommandArgSpec, CommandSpec } from '../config/index.ts'
import { escapeHtml } from '../domain/index.ts'
import type { Command } from '../rules/index.ts'

/** The commands the technician page offers on its ticket's device, and that device's recent ones. */
export type DeviceCommandsView = { device: string; specs: Record<string, CommandSpec>; recent: Command[] }

/** One command as the page lists it; the page's script gets the same through GET /t/<token>/commands. */
export type CommandLine = {
  id: string
  name: string
  status: Command['status']
  /** When it was asked for, on the site's clock. */
  time: string
  detail: string | null
}

export const commandLine = (command: Command, time: (iso: string) => string): CommandLine => ({
  id: command.id,
  name: command.name,
  status: command.status,
  time: time(command.createdAt),
  detail: command.detail ?? null,
})

/** One field per argument, typed as its spec says; the script reads data-type back into JSON. */
function argInput(command: string, name: string, spec: CommandArgSpec): string {
  const id = escapeHtml(`cmd-${command}-${name}`)
  const common = `id="${id}" name="${escapeHtml(name)}" data-type="${spec.type}"${spec.optional ? ' data-optional="true"' : ''}`
  const required = spec.optional ? '' : ' required'
  const bound = (key: 'min' | 'max', value: number | undefined) =>
    value === undefined ? '' : ` ${key}="${value}"`
  const field = (() => {
    switch (spec.type) {
      case 'integer':
      case 'number':
        return `<input ${common} type="number" inputmode="${spec.type === 'integer' ? 'numeric' : 'decimal'}" step="${spec.type === 'integer' ? '1' : 'any'}"${bound('min', spec.min)}${bound('max', spec.max)}${required}>`
      case 'boolean':
        return `<input ${common} type="checkbox">`
      case 'string':
        return `<input ${common} type="text" maxlength="${spec.maxLength}"${required}>`
      case 'enum': {
        const blank = spec.optional ? '<option value=""></option>' : ''
        const options = spec.values.map((v) => `<option>${escapeHtml(v)}</option>`).join('')
        return `<select ${common}${required}>${blank}${options}</select>`
      }
    }
  })()
  return `<label for="${id}">${escapeHtml(name)}</label>${field}`
}

export function commandItem(line: CommandLine): string {
  const detail = line.detail ? ` — ${escapeHtml(line.detail)}` : ''
  return `<li data-command="${escapeHtml(line.id)}" data-status="${line.status}"><time>${escapeHtml(line.time)}</time> ${escapeHtml(line.name)} <span class="command-status">${line.status}</span>${detail}</li>`
}

/**
 * "Device commands" on the technician page (issue 19): a button per command the device's kind takes, with a
 * field per argument (every arg type of the site file has one), and the device's recent commands.
 */
export function deviceCommandsSection({
  view,
  token,
  time,
}: {
  view: DeviceCommandsView
  token: string
  time: (iso: string) => string
}): string {
  const forms = Object.entries(view.specs)
    .map(([name, spec]) => {
      const fields = Object.entries(spec.args)
        .map(([arg, argSpec]) => argInput(name, arg, argSpec))
        .join('')
      return `<form class="command" data-command="${escapeHtml(name)}">${fields}<button class="command-send" type="submit">${escapeHtml(name)}</button></form>`
    })
    .join('')
  const recent = view.recent.map((c) => commandItem(commandLine(c, time))).join('')
  return `<section class="device-commands" id="device-commands" data-url="${escapeHtml(`/t/${token}/commands`)}">
<h2>Device commands</h2><p class="command-device">${escapeHtml(view.device)}</p>${forms}
<p id="command-message" role="status"></p>
<h3>Recent commands</h3><ol class="command-list" id="command-list">${recent}</ol></section>`
}
