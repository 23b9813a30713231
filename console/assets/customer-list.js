// The customer list at /customers: each customer a link to their page, paged with "More".
import { param } from './api-client.js'
import { esc } from './plan.js'

const $ = (id) => document.getElementById(id)

const subscriptionSummary = ({ sites, zones, devices }) =>
  [
    [sites, 'site'],
    [zones, 'zone'],
    [devices, 'device'],
  ]
    .filter(([ids]) => ids.length > 0)
    .map(([ids, what]) => `${ids.length} ${what}${ids.length > 1 ? 's' : ''}`)
    .join(', ') || 'subscribed to nothing'

const itemMarkup = (c) =>
  `<li data-customer="${esc(c.id)}"><a href="/customers/${esc(encodeURIComponent(c.id))}">${esc(c.name)}</a>
<span class="customer-id">${esc(c.id)}</span><span class="customer-meta">${esc(c.language)} · ${esc(subscriptionSummary(c.subscribes))}</span></li>`

/** Shows the list, one page at a time, following `next`. */
export async function showCustomerList({ api, limit }) {
  document.title = 'vigie — customers'
  $('customer-list-page').hidden = false
  const list = $('customer-list')
  const more = $('customer-list-more')
  list.innerHTML = ''
  let next = null

  async function load() {
    const page = await api(`/api/customers?limit=${limit}${param('cursor', next)}`)
    next = page.next
    list.insertAdjacentHTML('beforeend', page.items.map(itemMarkup).join(''))
    if (list.children.length === 0) list.innerHTML = '<li class="empty">No customer yet.</li>'
    more.hidden = !next
  }

  // Set, not added: signing in again shows the page afresh with one handler.
  more.onclick = async () => {
    more.disabled = true
    try {
      await load()
      more.textContent = 'More'
    } catch {
      more.textContent = 'More (that failed: try again)'
    } finally {
      more.disabled = false
    }
  }
  await load()
}
