// The technician page's device commands (issue 19): sends one through the signed link, then follows what
// became of the device's recent commands until each is settled (done, failed or expired).
const section = document.getElementById('device-commands')
const list = document.getElementById('command-list')
const message = document.getElementById('command-message')
const pollMs = 2000
let timer
// The command this page sent last: the message says what became of it.
let lastSent

const pending = (status) => status === 'queued' || status === 'sent'

/** The form's fields as the command's args, typed as the site file declares them (data-type). */
function argsOf(form) {
  const args = {}
  for (const field of form.querySelectorAll('[data-type]')) {
    const type = field.dataset.type
    if (type === 'boolean') {
      args[field.name] = field.checked
      continue
    }
    if (field.value === '' && field.dataset.optional === 'true') continue
    args[field.name] = type === 'integer' || type === 'number' ? Number(field.value) : field.value
  }
  return args
}

function show(items) {
  list.replaceChildren(
    ...items.map((line) => {
      const li = document.createElement('li')
      li.dataset.command = line.id
      li.dataset.status = line.status
      const time = document.createElement('time')
      time.textContent = line.time
      const status = document.createElement('span')
      status.className = 'command-status'
      status.textContent = line.status
      li.append(time, ` ${line.name} `, status, line.detail ? ` — ${line.detail}` : '')
      return li
    }),
  )
}

async function refresh() {
  clearTimeout(timer)
  const res = await fetch(section.dataset.url, { headers: { accept: 'application/json' } }).catch(() => null)
  if (!res?.ok) {
    // The ticket moved on (or the link expired): the page reloaded says why; polling stops here.
    if (res)
      message.textContent = (await res.json().catch(() => null))?.error?.message ?? 'Commands unavailable.'
    return
  }
  const { items } = await res.json()
  show(items)
  const last = items.find((line) => line.id === lastSent)
  if (last && !pending(last.status)) {
    message.textContent = `${last.name} ${last.status}${last.detail ? `: ${last.detail}` : ''}`
    lastSent = undefined
  }
  if (items.some((line) => pending(line.status))) timer = setTimeout(refresh, pollMs)
}

async function send(event) {
  event.preventDefault()
  const form = event.currentTarget
  const button = form.querySelector('button')
  button.disabled = true
  message.textContent = `Sending ${form.dataset.command}…`
  try {
    const res = await fetch(section.dataset.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: form.dataset.command, args: argsOf(form) }),
    })
    const body = await res.json().catch(() => null)
    if (res.ok) lastSent = body.id
    message.textContent = res.ok
      ? `${form.dataset.command} sent; waiting for the device.`
      : `Not sent: ${body?.error?.message ?? res.statusText}`
    message.dataset.sent = String(res.ok)
  } catch {
    message.textContent = 'Not sent: no connection; try again.'
  } finally {
    button.disabled = false
  }
  await refresh()
}

if (section) {
  for (const form of section.querySelectorAll('form.command')) form.addEventListener('submit', send)
  if ([...list.children].some((li) => pending(li.dataset.status))) timer = setTimeout(refresh, pollMs)
}
