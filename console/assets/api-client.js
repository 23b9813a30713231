// The console pages' API key and GET requests: the key lives in this tab only, as on the dashboard.

const storageName = 'vigie-key'

/** The key from `#key=…` (a fragment never reaches a server log), kept for this tab; else the one kept. */
export function takeKey() {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('key')
  if (fromHash) {
    sessionStorage.setItem(storageName, fromHash)
    history.replaceState(null, '', location.pathname + location.search)
  }
  return sessionStorage.getItem(storageName)
}

export const keepKey = (key) => sessionStorage.setItem(storageName, key)
export const forgetKey = () => sessionStorage.removeItem(storageName)

/** An answer other than 2xx: its status says what the page tells (401 sign in, 403 role, 404 not found). */
export class ApiError extends Error {
  constructor(path, status) {
    super(`${path}: ${status}`)
    this.status = status
  }
}

/** GETs JSON from this origin's API with the key as Bearer. */
export function apiClient(key) {
  return async (path) => {
    const res = await fetch(path, { headers: { authorization: `Bearer ${key}` } })
    if (!res.ok) throw new ApiError(path, res.status)
    return res.json()
  }
}

/** A query string part, or '' for a missing value. */
export const param = (name, value) =>
  value === null || value === undefined ? '' : `&${name}=${encodeURIComponent(value)}`
