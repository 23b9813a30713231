import { parseArgs } from 'node:util'
import { z } from 'zod'
import { type Config, describeIssue, deviceSchema, flattenIssues } from '../config/index.ts'
import { isVigieError, systemClock } from '../domain/index.ts'
import { createIngest, type DeviceRecord } from '../ingest/index.ts'
import { createLogger } from './logger.ts'
import { connectRedis, type RedisConnection } from './redis-connection.ts'

export const devicesUsage = `Usage: npm run vigie -- devices add <id> --kind <kind> --site <site> [--zone <zone>] [--name "<name>"]
       npm run vigie -- devices list

  add    provision a device in Redis and print its MQTT secret, shown this once only
  list   print every provisioned device`

// The site file's device schema is the single source of a device's fields.
const deviceFields = deviceSchema.shape
const newDeviceSchema = z
  .strictObject(deviceFields)
  .pick({ id: true, kind: true, site: true, zone: true, name: true })
type NewDevice = z.infer<typeof newDeviceSchema>

type DevicesCommand = { action: 'help' } | { action: 'list' } | { action: 'add'; device: NewDevice }

export type DevicesCommandOptions = {
  /** The arguments after `devices`. */
  args: string[]
  /** Loads the settings and the site file (the entry point's loader, which reports a bad configuration). */
  readConfig: () => Config
}

/** `vigie devices add|list`, through the same registry as POST /api/devices; resolves to the exit code. */
export async function runDevicesCommand({ args, readConfig }: DevicesCommandOptions): Promise<number> {
  const parsed = parseDevicesCommand(args)
  if (typeof parsed === 'string') {
    console.error(`vigie: ${parsed}\n\n${devicesUsage}`)
    return 2
  }
  if (parsed.action === 'help') {
    console.log(devicesUsage)
    return 0
  }
  const config = readConfig()
  if (parsed.action === 'add') {
    const unknown = unknownPlace(parsed.device, config)
    if (unknown) {
      console.error(`vigie: ${unknown}`)
      return 2
    }
  }

  // Logs go to standard error, and only warnings: standard output carries the answer (the secret).
  const log = createLogger({ level: 'warn', destination: process.stderr })
  let connection: RedisConnection
  try {
    connection = await connectRedis({ settings: config.settings, log })
  } catch (error) {
    if (!isVigieError(error) || error.code !== 'REDIS_UNAVAILABLE') throw error
    console.error(`vigie: ${error.message}`)
    return 1
  }
  try {
    const ingest = createIngest({
      redis: connection.redis,
      settings: config.settings,
      log,
      clock: systemClock,
    })
    if (parsed.action === 'list') {
      const records = await Promise.all((await ingest.registry.list()).map((id) => ingest.registry.get(id)))
      console.log(formatTable(records.filter((record) => record !== null)))
      return 0
    }
    try {
      const { device, secret } = await ingest.registry.add(parsed.device)
      console.log(`device ${device.id} added; secret (shown once): ${secret}`)
      return 0
    } catch (error) {
      if (!isVigieError(error) || error.code !== 'CONFLICT') throw error
      console.error(`vigie: device ${parsed.device.id} already exists; its secret is unchanged`)
      return 1
    }
  } finally {
    await connection.redis.quit()
    await connection.server?.stop()
  }
}

/** The command, or what is wrong with the arguments. */
function parseDevicesCommand(args: string[]): DevicesCommand | string {
  let parsed: ReturnType<typeof parseFlags>
  try {
    parsed = parseFlags(args)
  } catch (error) {
    return (error as Error).message
  }
  const { values, positionals } = parsed
  const { help, ...flags } = values
  const [action, ...rest] = positionals
  if (help) return { action: 'help' }
  if (action === 'list') {
    return rest.length === 0 && Object.keys(flags).length === 0
      ? { action }
      : 'devices list takes no arguments'
  }
  if (action !== 'add') return action ? `unknown devices command "${action}"` : 'name a command: add or list'
  if (rest.length !== 1) return 'devices add takes one device id'
  const result = newDeviceSchema.safeParse({ id: rest[0], ...flags }, { reportInput: true })
  if (result.success) return { action, device: result.data }
  return flattenIssues(result.error.issues)
    .map(
      ({ path, issue }) => `${path[0] === 'id' ? '<id>' : `--${String(path[0])}`}: ${describeIssue(issue)}`,
    )
    .join('\n       ')
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    options: {
      kind: { type: 'string' },
      site: { type: 'string' },
      zone: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  })
}

// Until sites can change at run time, the site file is the list of sites, so a typo is caught here.
function unknownPlace(device: NewDevice, { site, sitePath }: Config): string | undefined {
  const found = site.sites.find((known) => known.id === device.site)
  if (!found) {
    return `site "${device.site}" is not in ${sitePath}; known sites: ${site.sites.map((s) => s.id).join(', ')}`
  }
  if (device.zone !== undefined && !found.zones.some((zone) => zone.id === device.zone)) {
    const zones = found.zones.map((zone) => zone.id).join(', ') || 'none'
    return `zone "${device.zone}" is not in site ${found.id}; its zones: ${zones}`
  }
  return undefined
}

function formatTable(records: DeviceRecord[]): string {
  if (records.length === 0) return 'no devices'
  const rows = [
    ['ID', 'KIND', 'SITE', 'ZONE', 'NAME'],
    ...records.map((r) => [r.id, r.kind, r.site, r.zone ?? '-', r.name ?? '']),
  ]
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
