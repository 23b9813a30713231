// The customer pages: /customers lists them, /customers/<id> shows one; the id is read here, never by the server.
import { ApiError, apiClient, forgetKey, keepKey, takeKey } from './api-client.js'
import { showCustomerList } from './customer-list.js'
import { showCustomer } from './customer-view.js'

const $ = (id) => document.getElementById(id)

/** The id after /customers/, decoded; null on the list itself. */
function customerIdOf(pathname) {
  const match = /^\/customers\/([^/]+)$/.exec(pathname)
  if (!match) return null
  try {
    return decodeURIComponent(match[1])
  } catch {
    // A malformed escape is still shown (as text) and refused by the view.
    return match[1]
  }
}

/** `?limit=` pages the lists (a test or a small screen asks for fewer); 20 otherwise. */
function pageSize() {
  const asked = Number(new URLSearchParams(location.search).get('limit'))
  return Number.isInteger(asked) && asked >= 1 && asked <= 100 ? asked : 20
}

function signOut(reason = '') {
  forgetKey()
  for (const id of ['customer-page', 'customer-list-page', 'problem', 'sign-out']) $(id).hidden = true
  $('sign-in').hidden = false
  $('sign-in-error').textContent = reason
}

async function start(key) {
  $('sign-in').hidden = true
  $('sign-out').hidden = false
  const api = apiClient(key)
  const id = customerIdOf(location.pathname)
  try {
    if (id === null) await showCustomerList({ api, limit: pageSize() })
    else await showCustomer({ api, id, limit: pageSize() })
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut('The API key was refused')
    $('problem').textContent = `The page could not load: ${err.message}`
    $('problem').hidden = false
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault()
    const key = $('key').value.trim()
    $('key').value = ''
    keepKey(key)
    start(key)
  })
  $('sign-out').addEventListener('click', () => signOut())
  const key = takeKey()
  if (key) start(key)
  else signOut()
})
