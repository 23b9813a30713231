import { rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { findFreePort } from '../service/index.ts'
import { prepareBenchWorld } from './bench-setup.ts'
import type { BenchChild, Children } from './child-processes.ts'
import { loopDevices, loopSiteFile, openFilesLimit } from './loop-world.ts'
import { sampleProcess } from './process-stats.ts'

export type ReconnectFigures = {
  /** "issued" or "chosen": the kind of secret every device has. */
  secrets: string
  /** The stored hash's scheme, as the site file gives it. */
  scheme: string
  requested: number
  devices: number
  /** Why fewer than requested were connected, when they were. */
  cap: string | undefined
  /** Broker processes making up each node: more than one when one process may not hold every device's socket. */
  processesPerNode: number
  /** Every device connected to node A, from the first login. */
  firstConnectMs: number
  /** From node A's SIGKILL until the last device is connected to node B. */
  reconnectMs: number
  /** Logins tried on node B, and those refused (busy) or timed out, then tried again. */
  attempts: number
  refused: number
  /** Those refusals by reason: "connack-3" (busy), a timeout, a reset. */
  reasons: Record<string, number>
  /** CPU seconds spent from the kill until all were back, which a busier machine stretches less than time. */
  cpuSeconds: { nodeB: number; redis: number; devices: number }
}

// Sockets per fleet process at most: well under a 20,000 open-files limit.
const perFleetProcessMax = 7000
// Logins in hand at once while the fleet first connects to node A, over every fleet process.
const firstLoginsInFlight = 200
// Broker processes per node at most, each holding its share of the devices.
const maxProcessesPerNode = 4

type FleetState = {
  onA: number
  onB: number
  lastOnB: number
  attempts: number
  refused: number
  reasons: Record<string, number>
}

/**
 * Two vigie nodes (the broker role each) on one redis-server, a site file of `requested` devices sharing
 * one secret whose hash it gives; every device connected to node A, then A SIGKILLed: how long until every
 * device is connected to node B again. A node is as many broker processes as the open-files limit of one
 * process needs (a process here holds at most 20,000 files: 20,000 devices take two), as one would run a
 * process per core on a machine; A's are all killed at once.
 */
export async function runReconnect({
  children,
  secrets,
  secret,
  secretHash,
  requested,
  note,
  onStopper,
  cpuProfileDir,
  nodeEnv = {},
}: {
  children: Children
  secrets: string
  secret: string
  secretHash: string
  requested: number
  note: (text: string) => void
  /** So that a stop from outside (Ctrl-C) ends what this step started. */
  onStopper: (stop: () => Promise<void>) => void
  /** Node B runs under node --cpu-prof, its profile written there as it stops. */
  cpuProfileDir?: string | undefined
  /** More settings for both nodes. */
  nodeEnv?: Record<string, string>
}): Promise<ReconnectFigures> {
  const devices = loopDevices(requested, secret)
  const { dir, sitePath, prefix, redisServer } = await prepareBenchWorld({
    label: 'vigie-reconnect-',
    site: loopSiteFile(devices, secretHash),
  })
  const nodes: BenchChild[] = []
  const fleets: BenchChild[] = []
  const stop = async () => {
    await Promise.all(fleets.map((fleet) => fleet.stop(5000)))
    await Promise.all(nodes.map((node) => node.stop(5000)))
    await redisServer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  onStopper(stop)
  try {
    const startNode = async (name: string, profileDir?: string) => {
      const [mqttPort, httpPort] = [await findFreePort(), await findFreePort()]
      const node = children.start({
        args: [
          ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
          '--import',
          'tsx',
          'service/main.ts',
          'start',
        ],
        raiseOpenFiles: true,
        env: {
          VIGIE_ROLES: 'broker',
          VIGIE_CONFIG: sitePath,
          REDIS_URL: redisServer.url,
          REDIS_PREFIX: prefix,
          MQTT_PORT: String(mqttPort),
          HTTP_PORT: String(httpPort),
          BIND_HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          ...nodeEnv,
        },
      })
      nodes.push(node)
      const started = performance.now()
      await node.waitForPort(mqttPort, 60_000 + requested * 10)
      note(`node ${name} listening after ${((performance.now() - started) / 1000).toFixed(1)} s`)
      return { node, mqttPort }
    }
    // One after the other: the second finds the site file's devices provisioned.
    const a = [await startNode('A')]
    const b = [await startNode('B', cpuProfileDir)]
    const limit = await openFilesLimit(b[0]?.node.pid ?? 0)
    // A process holds a few hundred files besides its devices (Redis, listeners, its runtime).
    const room = limit === undefined ? requested : limit - 300
    const processesPerNode = Math.min(maxProcessesPerNode, Math.ceil(requested / room))
    for (let i = 1; i < processesPerNode; i++) {
      a.push(await startNode(`A${i + 1}`))
      b.push(await startNode(`B${i + 1}`))
    }
    if (processesPerNode > 1)
      note(
        `a process may hold ${limit?.toLocaleString('en-US')} open files (\`ulimit -Hn\`): each node is ${processesPerNode} broker processes`,
      )
    const target = Math.max(1, Math.min(requested, room * processesPerNode))
    const cap =
      target < requested
        ? `a process's open-files limit is ${limit?.toLocaleString('en-US')} (\`ulimit -Hn\`; raising it needs ` +
          `CAP_SYS_RESOURCE) and a node here is at most ${maxProcessesPerNode} processes: ` +
          `${target.toLocaleString('en-US')} devices, not ${requested.toLocaleString('en-US')}`
        : undefined
    if (cap) note(cap)

    const width = String(requested).length
    // Each pair of processes (A k, B k) gets an equal share, spread over fleet processes of at most perFleetProcessMax.
    const perPair = Math.ceil(target / processesPerNode)
    const fleetsPerPair = Math.ceil(perPair / perFleetProcessMax)
    const perProcess = Math.ceil(perPair / fleetsPerPair)
    const fleetCount = Math.ceil(target / perProcess)
    const states: FleetState[] = []
    const started = performance.now()
    for (let from = 1, index = 0; from <= target; from += perProcess, index++) {
      const take = Math.min(perProcess, target - from + 1)
      const pair = Math.min(Math.floor(index / fleetsPerPair), processesPerNode - 1)
      const state: FleetState = { onA: 0, onB: 0, lastOnB: 0, attempts: 0, refused: 0, reasons: {} }
      states.push(state)
      const concurrency = Math.max(1, Math.floor(firstLoginsInFlight / fleetCount))
      const fleet = children.start({
        args: [
          '--import',
          'tsx',
          'bench/reconnect-fleet.ts',
          ...[a[pair]?.mqttPort, b[pair]?.mqttPort, from, take, width, concurrency].map(String),
        ],
        env: { BENCH_SECRET: secret },
        raiseOpenFiles: true,
      })
      let pending = ''
      fleet.child.stdout?.on('data', (chunk: Buffer) => {
        pending += chunk.toString()
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const [word, ...values] = line.split(' ')
          const [n = 0, last = 0, attempts = 0, refused = 0] = values.map(Number)
          if (word === 'on-a') state.onA = n
          if (word === 'on-b') Object.assign(state, { onB: n, lastOnB: last, attempts, refused })
          if (word === 'why' && values[1]) state.reasons[values[1]] = n
        }
      })
      fleets.push(fleet)
    }
    const sum = (field: 'onA' | 'onB' | 'attempts' | 'refused') =>
      states.reduce((total, state) => total + state[field], 0)
    const waitUntil = async (done: () => boolean, what: string, timeoutMs: number) => {
      const deadline = performance.now() + timeoutMs
      let lastNote = 0
      while (!done()) {
        if (performance.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s`)
        if (fleets.some((f) => f.child.exitCode !== null)) throw new Error('a fleet process ended early')
        const ended = b.find(({ node }) => node.child.exitCode !== null)
        if (ended) throw new Error(`a process of node B ended:\n${ended.node.output()}`)
        if (performance.now() - lastNote > 5000) {
          lastNote = performance.now()
          note(
            `${what}: ${sum('onA').toLocaleString('en-US')} on A, ${sum('onB').toLocaleString('en-US')} on B`,
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    // Generous: a scrypt login is 30 to 150 ms of a core as busy as the machine is; the point is to measure.
    const deadlineMs = 300_000 + target * 500
    await waitUntil(() => sum('onA') >= target, 'connecting to node A', deadlineMs)
    const firstConnectMs = performance.now() - started
    note(`${target.toLocaleString('en-US')} devices on node A in ${(firstConnectMs / 1000).toFixed(1)} s`)

    const cpuNow = () => ({
      nodeB: b.reduce((total, { node }) => total + (sampleProcess(node.pid)?.cpuSeconds ?? Number.NaN), 0),
      redis: sampleProcess(redisServer.pid)?.cpuSeconds ?? Number.NaN,
      devices: fleets.reduce((total, fleet) => total + (sampleProcess(fleet.pid)?.cpuSeconds ?? 0), 0),
    })
    const cpuBefore = cpuNow()
    const killedAt = Date.now()
    for (const { node } of a) node.child.kill('SIGKILL')
    await waitUntil(() => sum('onB') >= target, 'reconnecting to node B', deadlineMs)
    const reconnectMs = Math.max(...states.map((state) => state.lastOnB)) - killedAt
    const cpuAfter = cpuNow()
    note(
      `${target.toLocaleString('en-US')} devices on node B ${(reconnectMs / 1000).toFixed(1)} s after A's kill`,
    )
    return {
      secrets,
      scheme: secretHash.split('$')[0] ?? '',
      requested,
      devices: target,
      cap,
      processesPerNode,
      firstConnectMs,
      reconnectMs,
      attempts: sum('attempts'),
      refused: sum('refused'),
      cpuSeconds: {
        nodeB: cpuAfter.nodeB - cpuBefore.nodeB,
        redis: cpuAfter.redis - cpuBefore.redis,
        devices: cpuAfter.devices - cpuBefore.devices,
      },
      reasons: states.reduce<Record<string, number>>((all, state) => {
        for (const [reason, n] of Object.entries(state.reasons)) all[reason] = (all[reason] ?? 0) + n
        return all
      }, {}),
    }
  } finally {
    await stop()
  }
}
