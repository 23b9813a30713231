// The simulators' entry point: the only file of simulators/ that reads process.argv and writes to the terminal.
import { writeFileSync } from 'node:fs'
import { loadConfig } from '../config/index.ts'
import { parseSimulatorArgs, type SimulatorFlags, usage } from './cli-options.ts'
import { createFleet } from './fleet.ts'
import { generateSite, siteFileYaml } from './generated-fleet.ts'
import { createMqttTransport } from './mqtt-transport.ts'
import { formatStats } from './publish-stats.ts'
import { type FleetSite, simulatableDevices } from './sim-device.ts'
import { createTechnicianSim } from './technician-sim.ts'

const siteReadingEveryMs = 30_000

function fleetSite(flags: SimulatorFlags): FleetSite {
  if (flags.devices !== undefined) return generateSite({ devices: flags.devices, seed: flags.seed }).site
  return loadConfig({ env: { VIGIE_CONFIG: flags.site } }).site
}

async function run(flags: SimulatorFlags): Promise<number> {
  if (flags['write-site'] && flags.devices !== undefined) {
    const { input } = generateSite({ devices: flags.devices, seed: flags.seed })
    writeFileSync(flags['write-site'], siteFileYaml(input))
    console.log(`wrote ${flags.devices} devices to ${flags['write-site']} (seed ${flags.seed})`)
    return 0
  }
  const site = fleetSite(flags)
  const { devices, hashedOnly } = simulatableDevices(site.devices)
  if (hashedOnly.length > 0) {
    const listed = hashedOnly.slice(0, 5).join(', ') + (hashedOnly.length > 5 ? ', …' : '')
    console.warn(
      `simulate: ${hashedOnly.length} device(s) have only a secretHash and cannot be simulated (${listed}); give them a clear \`secret\` in a copy of the site file`,
    )
  }
  if (devices.length === 0) {
    console.error('simulate: no device with a clear secret to simulate')
    return 2
  }
  const perSecond = flags.rate ?? (flags.devices !== undefined ? 1 : 1000 / siteReadingEveryMs)
  const fleet = createFleet({
    sites: site.sites,
    devices,
    seed: flags.seed,
    pace: { readingEveryMs: 1000 / perSecond, heartbeatEveryMs: flags.heartbeat },
    transport: createMqttTransport({ url: flags.mqtt }),
    connectConcurrency: flags.concurrency,
    onScenario: ({ type, run }) => console.log(`  scenario ${run.name} ${type} on ${run.devices.join(', ')}`),
    onCommand: ({ device, name, answer }) =>
      console.log(
        `  ${device} answered ${name}: ${answer.result}${answer.detail ? ` (${answer.detail})` : ''}`,
      ),
  })
  console.log(
    `simulate: ${devices.length} devices → ${flags.mqtt}, ${perSecond.toFixed(3).replace(/\.?0+$/, '')} readings/s each, seed ${flags.seed}`,
  )
  fleet.start()
  fleet.cue(flags.scenario)
  for (const cue of flags.scenario)
    console.log(
      `  scenario ${cue.name} at +${cue.atMs / 1000}s${cue.endMs === undefined ? '' : ` until +${cue.endMs / 1000}s`}${cue.target ? ` on ${cue.target}` : ''}`,
    )

  const technicians = flags.technicians
    ? createTechnicianSim({
        apiUrl: flags.technicians.replace(/\/$/, ''),
        publicUrl: (flags['public-url'] ?? flags.technicians).replace(/\/$/, ''),
        apiKey: flags['api-key'] ?? '',
        twilioAuthToken: flags['twilio-token'] ?? '',
        seed: flags.seed,
        timeScale: flags['time-scale'],
        repair: (ticket) => void fleet.endScenariosOn({ device: ticket.device, zone: ticket.zone }),
        onStep: ({ technician, ticket, step, detail }) => {
          if (step !== 'moved')
            console.log(`  ${technician} ${step} ticket ${ticket.slice(0, 8)}${detail ? ` (${detail})` : ''}`)
        },
      })
    : null
  await technicians?.start()

  const began = Date.now()
  let lastAcked = 0
  let lastAt = began
  const progress = setInterval(() => {
    const stats = fleet.stats()
    const now = Date.now()
    const rate = ((stats.acked - lastAcked) * 1000) / Math.max(1, now - lastAt)
    lastAcked = stats.acked
    lastAt = now
    const elapsed = `${Math.round((now - began) / 1000)}s`.padStart(5)
    console.log(`[${elapsed}] ${formatStats(stats, [`${Math.round(rate).toLocaleString('en-US')}/s`])}`)
  }, flags.progress)

  await new Promise<void>((resolve) => {
    const timer = flags.duration === undefined ? undefined : setTimeout(resolve, flags.duration)
    const stop = () => {
      clearTimeout(timer)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  clearInterval(progress)
  await technicians?.close()
  await fleet.close()
  console.log(`done: ${formatStats(fleet.stats())}`)
  return 0
}

async function main(): Promise<void> {
  let flags: SimulatorFlags | 'help'
  try {
    flags = parseSimulatorArgs(process.argv.slice(2))
  } catch (error) {
    console.error(`simulate: ${(error as Error).message}\n\nRun with --help for the flags.`)
    process.exit(2)
  }
  if (flags === 'help') return console.log(usage)
  try {
    process.exitCode = await run(flags)
  } catch (error) {
    console.error(`simulate: ${(error as Error).message}`)
    process.exitCode = 2
  }
}

await main()
