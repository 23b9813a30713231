import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { IdleFigures } from '../../bench/idle-connections-step.ts'
import { createProbeSchedule, spread } from '../../bench/latency-step.ts'
import type { LoadResult } from '../../bench/load-generator.ts'
import { loopDevices, loopSiteFile } from '../../bench/loop-world.ts'
import { mosquittoConfig } from '../../bench/mosquitto.ts'
import type { OverloadRun } from '../../bench/overload-step.ts'
import { formatProgressLine } from '../../bench/progress.ts'
import { loopRates, parseSuiteFlags } from '../../bench/suite-flags.ts'
import {
  goals,
  type SuiteContext,
  type SuiteFigures,
  suiteBegin,
  suiteEnd,
  suiteMarkdown,
  withSuiteSection,
} from '../../bench/suite-report.ts'
import type { LoopWindow } from '../../bench/whole-loop-step.ts'
import { siteFileSchema } from '../../config/index.ts'

function run(args: string[]) {
  const parsed = parseSuiteFlags(args)
  if (parsed.kind !== 'run') throw new Error(`expected options, got ${JSON.stringify(parsed)}`)
  return parsed.options
}

describe('suite flags', () => {
  it('has the full run by default and writes the results', () => {
    const options = run([])
    expect(options).toMatchObject({
      devices: 5000,
      rates: [10_000],
      seconds: 30,
      warmupSeconds: 20,
      connected: 20_000,
      overload: { rate: 40_000, seconds: 60, devices: 2000 },
      history: { tickets: 100_000, devices: 5000, readings: undefined },
      writeResults: true,
    })
    expect(loopRates(options)).toEqual([1000, 10_000])
  })

  it('makes --quick small and never writes the results', () => {
    const options = run(['--quick'])
    expect(options).toMatchObject({
      devices: 300,
      rates: [1000],
      seconds: 8,
      warmupSeconds: 2,
      connected: 500,
      overload: { rate: 5000, seconds: 10, devices: 300 },
      history: { tickets: 2000, devices: 300, readings: 100_000 },
      writeResults: false,
    })
    // The latency and CPU rate is the sustained one: one window serves both.
    expect(loopRates(options)).toEqual([1000])
  })

  it('takes rates as a list, sorted and once each, and steps to skip', () => {
    const options = run([
      ...['--rate', '15000, 5000,5000', '--devices', '800', '--skip', 'latency,cpu,mosquitto'],
      ...['--cpu-prof', '/tmp/profiles'],
    ])
    expect(options.cpuProfileDir).toBe('/tmp/profiles')
    // Steps missing: printed, not written over a complete section.
    expect(options.writeResults).toBe(false)
    expect(options.rates).toEqual([5000, 15_000])
    expect(options.devices).toBe(800)
    expect(run(['--warmup', '45']).warmupSeconds).toBe(45)
    expect([...options.skip]).toEqual(['latency', 'cpu', 'mosquitto'])
    expect(loopRates(options)).toEqual([5000, 15_000])
  })

  it('answers --help', () => {
    expect(parseSuiteFlags(['--help'])).toEqual({ kind: 'help' })
  })

  it.each([
    [['--devices', '0'], '--devices: expected at least 1'],
    [['--devices', 'many'], '--devices: expected a whole number'],
    [['--rate', '1000,fast'], '--rate: expected a whole number'],
    [['--seconds', '4000'], '--seconds: at most 3600'],
    [['--warmup', '0'], '--warmup: expected at least 1'],
    [
      ['--skip', 'loop,warp'],
      '--skip: each name is one of loop, latency, cpu, rss, overload, aedes, mosquitto, history',
    ],
  ])('refuses %j with a clear message', (args, message) => {
    expect(parseSuiteFlags(args)).toEqual({ kind: 'error', message })
  })

  it('refuses an unknown flag', () => {
    const parsed = parseSuiteFlags(['--fast'])
    expect(parsed.kind).toBe('error')
    expect(parsed.kind === 'error' && parsed.message).toContain("Unknown option '--fast'")
  })
})

const load = (rate: number, overrides: Partial<LoadResult> = {}): LoadResult => ({
  rate,
  offered: rate * 30,
  skipped: 0,
  acked: rate * 30,
  ackRate: rate,
  slowestSecond: rate,
  perSecond: [],
  latencyMs: { p50: 2, p99: 20, max: 40 },
  unacked: 0,
  errors: 0,
  generatorCpu: 0.3,
  generatorLagP99Ms: 2,
  ...overrides,
})

const window = (rate: number, toOfferP99: number, cpu: { vigie: number; redis: number }): LoopWindow => ({
  rate,
  load: load(rate),
  cpu,
  peakRssBytes: 2 ** 29,
  rules: { evaluatedPerSecond: rate, lagAtEnd: 0 },
  latency: {
    probes: 30,
    toOffer: { count: 30, p50: 4, p99: toOfferP99, max: toOfferP99 },
    toNotification: { count: 30, p50: 5, p99: toOfferP99 + 2, max: toOfferP99 + 2 },
  },
  produced: {
    tickets: 31,
    offers: 31,
    notifications: 124,
    outcomes: { sent: 90 },
    standIns: { sms: 62, calls: 31, emails: 3, refused: 0 },
  },
})

const idle: IdleFigures = {
  requested: 20_000,
  connected: 19_800,
  failed: 0,
  cap: "vigie's open-files limit is 20,000",
  startMs: 3000,
  connectMs: 300_000,
  holdSeconds: 30,
  vigie: { baselineRssBytes: 200 * 2 ** 20, rssBytes: 1000 * 2 ** 20, peakRssBytes: 1100 * 2 ** 20 },
  redisPeakRssBytes: 100 * 2 ** 20,
  perDeviceBytes: 40 * 1024,
  extrapolatedPeakBytes: 1100 * 2 ** 20 + 200 * 40 * 1024,
}

const overload: OverloadRun = {
  rate: 40_000,
  seconds: 60,
  devices: 2000,
  subscriberBytesPerSecond: 50_000,
  load: load(40_000, {
    ackRate: 15_000,
    skipped: 1_500_000,
    latencyMs: { p50: 4000, p99: 11_000, max: 12_000 },
  }),
  survived: true,
  exit: null,
  rssBeforeBytes: 440 * 2 ** 20,
  peakRssBytes: 990 * 2 ** 20,
  rssByTenth: Array.from({ length: 10 }, () => 900 * 2 ** 20),
  peakBacklog: 41_000,
  acknowledged: 900_000,
  stored: 900_000,
  subscriberReceived: 9000,
  subscriberDroppedAfterSeconds: 18.2,
  dropLines: ['{"msg":"mqtt client dropped: too far behind the messages sent to it"}'],
}

const figures: SuiteFigures = {
  devices: 5000,
  seconds: 30,
  warmupSeconds: 5,
  probeShare: 1000,
  vigie: {
    startMs: 2500,
    connectMs: 80_000,
    windows: [
      window(1000, 12, { vigie: 0.15, redis: 0.08 }),
      window(10_000, 300, { vigie: 0.9, redis: 0.4 }),
    ],
  },
  idle,
  overload,
  relays: [
    {
      name: 'plain aedes',
      startMs: 400,
      connectMs: 1500,
      windows: [
        {
          rate: 10_000,
          load: load(10_000, { latencyMs: { p50: 1, p99: 10, max: 20 } }),
          cpu: 0.3,
          peakRssBytes: 2 ** 28,
        },
      ],
    },
  ],
  notes: ['mosquitto is not on the PATH: its relay was not run'],
}

const context: SuiteContext = {
  command: 'node --import tsx bench/suite.ts',
  date: '2026-11-30 10:00 UTC',
  node: 'v20.20.2',
  nproc: 2,
  cpuModel: 'AMD EPYC',
  memory: '               total\nMem:            23Gi\n',
  loadAverage: 0.5,
  durationMs: 17 * 60_000,
}

describe('suite report', () => {
  it('judges each goal of issues 7 and 15', () => {
    expect(goals(figures, 2).map((g) => g.verdict)).toEqual(['met', 'met', 'not met', 'met', 'met'])
    expect(goals(figures, 2)[4]?.figure).toBe(
      'running after 60 s at 40,000/s offered: 900,000 acknowledged, 900,000 stored; subscriber dropped after ' +
        '18.2 s; peak RSS 990 MB (440 MB before)',
    )
    // 23 % of a core for vigie and redis together: 11.5 % of two cores, 5.75 % of four.
    expect(goals(figures, 4).map((g) => g.verdict)[2]).toBe('met')
    expect(goals(figures, 2)[2]?.figure).toBe('11.5 % of 2 cores: vigie 15.0 % of a core, its redis 8.0 %')
  })

  it('does not call the whole loop held when the rule workers fall behind, even with every reading acked', () => {
    const [low, top] = figures.vigie?.windows ?? []
    if (!low || !top) throw new Error('two windows expected')
    const behind = { ...top, rules: { evaluatedPerSecond: 9600, lagAtEnd: 17_000 } }
    const verdicts = goals({ ...figures, vigie: { startMs: 1, connectMs: 1, windows: [low, behind] } }, 2)
    expect(verdicts[0]).toMatchObject({ verdict: 'not met' })
    expect(verdicts[0]?.figure).toContain('not held; rules backlog 17,000 at the end')
  })

  it('fails the overload goal on a crash, a lost reading or a subscriber never dropped', () => {
    const verdict = (run: Partial<OverloadRun>) =>
      goals({ ...figures, overload: { ...overload, ...run } }, 2)[4]?.verdict
    expect(verdict({ survived: false, exit: '1' })).toBe('not met')
    expect(verdict({ stored: 899_999 })).toBe('not met')
    expect(verdict({ subscriberDroppedAfterSeconds: null })).toBe('not met')
    expect(goals({ ...figures, overload: undefined }, 2)[4]?.verdict).toBe('not measured')
  })

  it('says "not measured" of goals a smaller run cannot test', () => {
    const small = {
      ...figures,
      devices: 300,
      idle: { ...idle, requested: 500, connected: 500, extrapolatedPeakBytes: undefined },
    }
    const verdicts = goals(
      {
        ...small,
        vigie: { startMs: 1, connectMs: 1, windows: [window(1000, 80, { vigie: 0.5, redis: 0.2 })] },
      },
      2,
    )
    expect(verdicts.map((g) => g.verdict)).toEqual([
      'not measured',
      'not met',
      'not met',
      'not measured',
      'met',
    ])
  })

  it('writes the figures, the goals, the machine, the date and the command', () => {
    const text = suiteMarkdown(figures, context)
    expect(text).toContain('Run of 2026-11-30 10:00 UTC, 17 min: `node --import tsx bench/suite.ts`')
    expect(text).toContain('Machine: 2 cores (`nproc`), AMD EPYC; node v20.20.2')
    expect(text).toContain('$ free -h')
    expect(text).toContain(
      '| p99 reading → ticket offered under 50 ms at 1,000 readings/s | p99 12 ms (p50 4 ms, 30 probes) | met |',
    )
    expect(text).toContain(
      '| 10,000 | 10,000 | yes / yes | 2.0 / 20.0 | 10,000 | 0 | 30 | 4 / 300 | 5 / 302 | 31 / 31 / 124 | 62 / 31 / 3 | 90 % / 45 % | 40 % / 20 % |',
    )
    expect(text).toContain(
      '| vigie (every role) | 10,000 | 10,000 | 20.0 | 90 % | 512 MB | 1.00× | 1.00× | 1.00× |',
    )
    expect(text).toContain('| plain aedes | 10,000 | 10,000 | 10.0 | 30 % | 256 MB | 1.00× | 0.50× | 0.33× |')
    expect(text).toContain('1.18 GB scaled to 20,000')
    expect(text).toContain('- mosquitto is not on the PATH: its relay was not run')
    expect(text).toContain(
      "the broker's bus held at most 41,000 waiting; vigie RSS by tenth of the load (MB): 900, 900",
    )
  })

  it('puts its section at the top of the file once, then replaces only it', () => {
    const history = '# Ingest benchmark\n\nolder runs\n'
    const first = withSuiteSection(history, 'run one')
    expect(first).toBe(`${suiteBegin}\nrun one\n${suiteEnd}\n\n${history}`)
    expect(withSuiteSection(first, 'run two')).toBe(`${suiteBegin}\nrun two\n${suiteEnd}\n\n${history}`)
  })
})

describe('suite parts', () => {
  it('formats a progress line with elapsed time and what is left', () => {
    const line = {
      index: 2,
      total: 6,
      label: 'whole loop at 10,000/s',
      elapsedMs: 42_000,
      detail: 'measuring',
    }
    expect(formatProgressLine({ ...line, leftMs: 18_000, runLeftMs: 390_000 })).toBe(
      '[2/6] whole loop at 10,000/s  0:42, ~0:18 left (run ~6:30)  measuring',
    )
    expect(formatProgressLine({ ...line, leftMs: undefined, runLeftMs: undefined })).toBe(
      '[2/6] whole loop at 10,000/s  0:42  measuring',
    )
  })

  it('ranks latencies by nearest rank', () => {
    expect(spread([5, 1, 3, 2, 4])).toEqual({ count: 5, p50: 3, p99: 5, max: 5 })
    expect(spread([]).count).toBe(0)
  })

  it('probes fresh devices at the given rate, and times only those in the window', () => {
    let now = 1000
    const probes = createProbeSchedule({ perSecond: 2, probed: new Set(['d1']), now: () => now })
    expect(probes.payloadFor('d1', 1)).toBeUndefined() // probed before
    expect(probes.payloadFor('d2', 7)).toBe('{"type":"temperature","celsius":70,"seq":7}')
    expect(probes.payloadFor('d3', 1)).toBeUndefined() // not due for 500 ms
    now += 500
    probes.openWindow()
    expect(probes.payloadFor('d3', 2)).toBeDefined()
    probes.closeWindow()
    expect([...probes.sentInWindow()]).toEqual([['d3', 1500]])
    expect(probes.total()).toBe(2)
  })

  it('writes a site file the product accepts, with one hash for every device', () => {
    const hash = 'scrypt$16384$8$1$c2FsdA$aGFzaA'
    const site = siteFileSchema.parse(parse(loopSiteFile(loopDevices(12, 'secret'), hash)))
    expect(site.devices.map((d) => d.id).slice(0, 2)).toEqual(['bench-01', 'bench-02'])
    expect(new Set(site.devices.map((d) => d.secretHash))).toEqual(new Set([hash]))
    expect(site.rules[0]).toMatchObject({ voice: true, notifyCustomers: true, severity: 'critical' })
  })

  it('configures mosquitto for loopback, anonymous, without persistence', () => {
    expect(mosquittoConfig(18_830).split('\n')).toEqual(
      expect.arrayContaining(['listener 18830 127.0.0.1', 'allow_anonymous true', 'persistence false']),
    )
  })
})
