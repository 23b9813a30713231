// The customer list at /customers: each customer a link to their page, paged with "More".
import { pagedList } from './paged-list.js'
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
  await pagedList({
    api,
    list: $('customer-list'),
    more: $('customer-list-more'),
    path: `/api/customers?limit=${limit}`,
    markup: itemMarkup,
    empty: 'No customer yet.',
  })
}
