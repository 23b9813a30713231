import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { VigieError } from '../domain/index.ts'

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

// Served from memory and named one by one: no path from a request ever reaches the file system.
const assetNames = [
  'dashboard.js',
  'plan.js',
  'technician.js',
  'technician-commands.js',
  'console.css',
  'favicon.svg',
  'chart.js',
  'device-panel.js',
  'trend.js',
  'device-commands.js',
  'alert.js',
  'alert-sound.js',
] as const
// The customer pages' files (issue 19).
const customerAssetNames = [
  'customer.js',
  'customer-view.js',
  'customer-list.js',
  'api-client.js',
  'paged-list.js',
] as const

/**
 * The console loads only its own files and talks only to this origin (its API and /ws). Media may come
 * only from the origins of the sites' recorded voice messages (issue 19); the alert tone is WebAudio, no media.
 */
function securityHeaders(sites: readonly { voiceMessageUrl?: string | undefined }[]) {
  const recordings = [
    ...new Set(sites.flatMap((site) => (site.voiceMessageUrl ? [new URL(site.voiceMessageUrl).origin] : []))),
  ]
  const media = recordings.length > 0 ? ` media-src ${recordings.join(' ')};` : ''
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:;${media} base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  }
}

function load(name: string): { body: Buffer; type: string } {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url))
  return { body, type: types[name.split('.').pop() ?? ''] ?? 'application/octet-stream' }
}

/** The dashboard at `/` and its files under `/console/`: public pages; every figure they show needs an API key. */
export function registerConsoleRoutes(
  app: FastifyInstance,
  { sites = [] }: { sites?: readonly { voiceMessageUrl?: string | undefined }[] } = {},
): void {
  const headers = securityHeaders(sites)
  const dashboard = load('dashboard.html')
  const assets = new Map([...assetNames, ...customerAssetNames].map((name) => [name, load(name)]))
  const config = { access: 'public' as const }
  const params = z.object({ name: z.string().max(64) })

  app.get('/', { config, schema: { hide: true } }, async (_request, reply) =>
    reply.headers(headers).header('cache-control', 'no-cache').type(dashboard.type).send(dashboard.body),
  )
  // One static page for the customer list and for each customer: the page reads the id from its address.
  const customerPage = load('customer.html')
  for (const url of ['/customers', '/customers/:id'])
    app.get(url, { config, schema: { hide: true } }, async (_request, reply) =>
      reply
        .headers(headers)
        .header('cache-control', 'no-cache')
        .type(customerPage.type)
        .send(customerPage.body),
    )
  app.get('/console/:name', { config, schema: { hide: true } }, async (request, reply) => {
    // A name past the longest file's is simply not one of them: 404, never a parse error.
    const name = params.safeParse(request.params).data?.name
    const asset = name === undefined ? undefined : assets.get(name as (typeof assetNames)[number])
    if (!asset) throw new VigieError({ code: 'NOT_FOUND', message: 'No such console file' })
    return reply.headers(headers).header('cache-control', 'no-cache').type(asset.type).send(asset.body)
  })
}
