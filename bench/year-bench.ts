import { readFile, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fullYear } from '../history/index.ts'
import { buildHistoryYear } from './history-step.ts'
import { createProgress } from './progress.ts'
import { describeMachine, machineLines, replaceSection } from './results-file.ts'
import { yearMarkdown } from './year-report.ts'
import { settleYear } from './year-settle.ts'
import { measureVigie } from './year-step.ts'

// `npm run bench:year`: the year step alone; at the full size (no --tickets, --devices) its section of
// bench/RESULTS.md is replaced, at any other size it is only printed.
const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: String(fullYear.tickets) },
    devices: { type: 'string', default: String(fullYear.devices) },
    probes: { type: 'string', default: '50' },
    repeats: { type: 'string', default: '100' },
    readings: { type: 'string' },
    // Reuse a year written by an earlier run within 12 h (~/.cache/vigie/), or keep this one there.
    cache: { type: 'boolean', default: false },
  },
})
const size = { ...fullYear, tickets: Number(values.tickets), devices: Number(values.devices) }
const progress = createProgress({ plan: [{ label: 'year', estimateSeconds: 60 + size.tickets / 300 }] })
progress.begin('year')
const year = await buildHistoryYear({
  size,
  seed: 'vigie',
  progress,
  ...(values.cache
    ? {
        cacheDir: join(
          homedir(),
          '.cache',
          'vigie',
          `year-${size.tickets}-${size.devices}-${values.readings ?? 'default'}`,
        ),
      }
    : {}),
  ...(values.readings === undefined ? {} : { readings: Number(values.readings) }),
})
try {
  const common = {
    site: year.world.site,
    redis: year.redis,
    redisUrl: year.redisServer.url,
    probes: Number(values.probes),
    repeats: Number(values.repeats),
    progress,
  }
  progress.update('the year: retention sweeps until none is left')
  const settled = await settleYear({ redis: year.redis, site: year.world.site, prefix: year.world.prefix })
  const full = await measureVigie({ ...common, prefix: year.world.prefix, label: 'the year' })
  const empty = await measureVigie({ ...common, prefix: 'empty:', label: 'an empty start' })
  progress.end('measured')
  const report = yearMarkdown({
    size,
    summary: year.world.summary,
    timings: year.world.timings,
    settled,
    full,
    empty,
  })
  console.log(report)
  if (size.tickets === fullYear.tickets && size.devices === fullYear.devices) {
    const machine = describeMachine()
    const section = [
      `### A year at a busy airport (issue 16), ${machine.date}`,
      '',
      ...machineLines(
        machine,
        `\`npm run bench:year\` (${values.probes} probes after 5 untimed, ${values.repeats} requests a route after 3 untimed, sent from a client thread${year.cachedAt === undefined ? '' : `, over the year written ${new Date(year.cachedAt).toISOString()}`}).`,
      ),
      report,
    ].join('\n')
    const path = new URL('./RESULTS.md', import.meta.url)
    const text = await readFile(path, 'utf8')
    const begin = '<!-- year:begin (written by bench/year-bench.ts) -->'
    const end = '<!-- year:end -->'
    await writeFile(
      path,
      replaceSection({ text, begin, end, section, place: (block) => `${text}\n${block}` }),
    )
  }
} finally {
  await year.stop()
}
