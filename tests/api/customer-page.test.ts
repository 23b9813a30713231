// Issue 19, the customer's page over HTTP: one static page for any id, with the console's CSP, never a file.
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, createReadiness } from '../../api/index.ts'
import { systemClock } from '../../domain/index.ts'
import { createLogger } from '../../service/index.ts'
import { rawSocket, recordUntilClosed } from '../support/raw-http.ts'

let app: FastifyInstance
const page = readFileSync(new URL('../../console/assets/customer.html', import.meta.url), 'utf8')

beforeAll(async () => {
  app = await buildApi({
    clock: systemClock,
    log: createLogger({ level: 'silent' }),
    apiKeys: [],
    adminKey: 'admin-key-customer-page-0123',
    readiness: createReadiness(),
  })
  await app.ready()
})
afterAll(async () => {
  await app.close()
})

const get = (url: string) => app.inject({ method: 'GET', url })

describe('GET /customers and /customers/:id', () => {
  it('serves the customer page, public, with the strict CSP and no inline script or style', async () => {
    for (const url of ['/customers', '/customers/cust-skylounge']) {
      const res = await get(url)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
      const csp = String(res.headers['content-security-policy'])
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("style-src 'self'")
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.body).toBe(page)
    }
    expect(page).toContain('<script type="module" src="/console/customer.js"></script>')
    // Every script has a src, and nothing is styled inline: the CSP would block it.
    expect(page.match(/<script\b[^>]*>/g)?.every((tag) => tag.includes(' src="/console/'))).toBe(true)
    expect(page).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i)
  })

  it('gives the same page for an id that looks like a path or markup, never a file', async () => {
    const hostile = [
      '/customers/..%2F..%2Fpackage.json',
      '/customers/%2e%2e%2f%2e%2e%2fconsole%2fassets%2fcustomer.js',
      '/customers/..%5C..%5Cetc%5Cpasswd',
      '/customers/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E',
      '/customers/customer.html',
    ]
    for (const url of hostile) {
      const res = await get(url)
      expect({ url, status: res.statusCode }).toEqual({ url, status: 200 })
      expect(res.body).toBe(page)
    }
    // Unescaped dots are no id (no public route: the key is asked for), a broken escape no address: JSON only.
    const refused = {
      '/customers/../../package.json': 401,
      '/customers/%E0%A4%A': 400,
    }
    for (const [url, status] of Object.entries(refused)) {
      const res = await get(url)
      expect({ url, status: res.statusCode }).toEqual({ url, status })
      expect(res.headers['content-type']).toContain('application/json')
      expect(res.body).not.toContain('"devDependencies"')
      expect(res.body).not.toContain('showCustomer')
    }
  })

  it('answers a path with raw dots, as no client would normalise it, with no file', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    for (const path of ['/customers/../../package.json', '/customers/..%2f..%2fpackage.json']) {
      const socket = await rawSocket(address)
      const answer = recordUntilClosed(socket)
      socket.end(`GET ${path} HTTP/1.1\r\nHost: vigie\r\nConnection: close\r\n\r\n`)
      await answer.closed
      const text = answer.received()
      expect(text).not.toContain('"devDependencies"')
      // Either no route for the dots (a key is asked for), or the page itself (the socket reads latin1).
      if (path.includes('%')) {
        expect(text).toMatch(/^HTTP\/1\.1 200 /)
        expect(text.endsWith(Buffer.from(page).toString('latin1'))).toBe(true)
      } else expect(text).toMatch(/^HTTP\/1\.1 401 /)
    }
  })

  it("serves the page's scripts by name, and the dashboard links to the customers", async () => {
    for (const name of [
      'customer.js',
      'customer-view.js',
      'customer-list.js',
      'api-client.js',
      'paged-list.js',
    ]) {
      const res = await get(`/console/${name}`)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8')
      expect(res.headers['content-security-policy']).toContain("default-src 'none'")
    }
    expect((await get('/console/customer.html')).statusCode).toBe(404)
    // A name longer than any file's is not one: 404 like any other, never a 500.
    expect((await get(`/console/${'a'.repeat(80)}.js`)).statusCode).toBe(404)
    expect((await get('/')).body).toContain('<a href="/customers">Customers</a>')
  })
})
