import { parseArgs } from 'node:util'
import { z } from 'zod'
import { parseDuration } from '../config/index.ts'
import { parseScenarioCue, type ScenarioCue, scenarioNames, scenarioSpecs } from './scenarios.ts'
import { SimulatorError } from './simulator-error.ts'

export const usage = `Usage: npm run simulate -- (--site FILE | --devices N) [options]

Plays a fleet of devices over real MQTT connections (one per device) against vigie's broker.

  --site FILE            the devices of this site file (those with a clear \`secret\`)
  --devices N            a generated site of N devices (zones of 50; ids and secrets from the seed)
  --write-site FILE      with --devices: write the generated site as a site file vigie starts on, and exit
  --rate R/s             readings per device per second on average, jittered (e.g. 2/s, 30/m);
                         default 1/s for --devices, one every 30 s for --site
  --heartbeat 60s        every device also sends a heartbeat this often
  --seed S               the same seed, site and clock repeat the same readings (default: vigie)
  --mqtt URL             the broker (default mqtt://localhost:1883)
  --duration 60s         stop after this long (default: until Ctrl-C)
  --scenario CUE         name@offset[-end][:target], repeatable, e.g. door-forced@30s:door-lounge-1
                         or zone-heat@1m-4m:t2-lounges; target: a device, zone or site id
  --concurrency 200      connections opened at once
  --progress 5s          how often the progress line is printed
  --technicians URL      also play the technicians against vigie's API at URL (needs --api-key and
                         --twilio-token; --public-url defaults to URL; --time-scale 60 speeds them up)
  --help                 this text

Scenarios:
${scenarioNames.map((name) => `  ${name.padEnd(16)} ${scenarioSpecs[name].summary}`).join('\n')}`

const duration = (flag: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text)
    if (ms === null || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `${flag}: a duration like 90s, 5m or 2h (got "${text}")` })
      return z.NEVER
    }
    return ms
  })

/** `2/s`, `0.5/s`, `30/m`, `60/h` → readings per second. */
const rate = z.string().transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)\/(s|m|h)$/.exec(text.trim())
  const perSecond = match ? Number(match[1]) / { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'] : 0
  if (!(perSecond > 0) || perSecond > 1000) {
    ctx.addIssue({ code: 'custom', message: `--rate: readings per device like 2/s or 30/m (got "${text}")` })
    return z.NEVER
  }
  return perSecond
})

const count = (flag: string, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${flag}: a whole number`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `${flag}: between 1 and ${max}`)

const flagsSchema = z
  .object({
    site: z.string().min(1).optional(),
    devices: count('--devices', 100_000).optional(),
    'write-site': z.string().min(1).optional(),
    rate: rate.optional(),
    heartbeat: duration('--heartbeat').default(60_000),
    seed: z.string().min(1).default('vigie'),
    mqtt: z
      .string()
      .regex(/^(mqtts?|wss?|tcp):\/\/.+/, '--mqtt: a URL like mqtt://localhost:1883')
      .default('mqtt://localhost:1883'),
    duration: duration('--duration').optional(),
    scenario: z.array(z.string()).default([]),
    concurrency: count('--concurrency', 10_000).default(200),
    progress: duration('--progress').default(5_000),
    technicians: z.url({ protocol: /^https?$/, error: '--technicians: the http(s) URL of vigie' }).optional(),
    'api-key': z.string().min(16, '--api-key: an admin API key').optional(),
    'twilio-token': z.string().min(1).optional(),
    'public-url': z.url({ protocol: /^https?$/, error: '--public-url: an http(s) URL' }).optional(),
    'time-scale': z.coerce.number().positive('--time-scale: above 0').default(60),
  })
  .superRefine((flags, ctx) => {
    const problem = (message: string) => ctx.addIssue({ code: 'custom', message })
    if ((flags.site === undefined) === (flags.devices === undefined))
      problem('give one of --site FILE or --devices N')
    if (flags['write-site'] && flags.devices === undefined) problem('--write-site goes with --devices N')
    if (flags.technicians && (!flags['api-key'] || !flags['twilio-token']))
      problem('--technicians needs --api-key (an admin key) and --twilio-token (TWILIO_AUTH_TOKEN)')
  })

export type SimulatorFlags = Omit<z.infer<typeof flagsSchema>, 'scenario'> & { scenario: ScenarioCue[] }

/** The command line, checked once: flags, or a SimulatorError whose message lists every problem. */
export function parseSimulatorArgs(args: readonly string[]): SimulatorFlags | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      options: {
        site: { type: 'string' },
        devices: { type: 'string' },
        'write-site': { type: 'string' },
        rate: { type: 'string' },
        heartbeat: { type: 'string' },
        seed: { type: 'string' },
        mqtt: { type: 'string' },
        duration: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        concurrency: { type: 'string' },
        progress: { type: 'string' },
        technicians: { type: 'string' },
        'api-key': { type: 'string' },
        'twilio-token': { type: 'string' },
        'public-url': { type: 'string' },
        'time-scale': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values
  } catch (cause) {
    throw new SimulatorError({ code: 'SIM_BAD_OPTIONS', message: (cause as Error).message, cause })
  }
  if (values.help) return 'help'
  const parsed = flagsSchema.safeParse(values)
  if (!parsed.success)
    throw new SimulatorError({
      code: 'SIM_BAD_OPTIONS',
      message: parsed.error.issues.map((issue) => issue.message).join('\n'),
    })
  return { ...parsed.data, scenario: parsed.data.scenario.map(parseScenarioCue) }
}
