// A list read a page at a time: "More" follows the API's `next` cursor and appends the page.
import { param } from './api-client.js'

/**
 * Fills `list` from `path` (a URL taking `&cursor=`), one page per press of `more`; `markup(item)` draws an
 * item and `empty` is said when there is none. Resolves once the first page is shown (or rejects as it failed).
 */
export async function pagedList({ api, list, more, path, markup, empty }) {
  list.innerHTML = ''
  let next = null
  async function load() {
    const page = await api(`${path}${param('cursor', next)}`)
    next = page.next
    list.insertAdjacentHTML('beforeend', page.items.map(markup).join(''))
    if (list.children.length === 0) list.innerHTML = `<li class="empty">${empty}</li>`
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
