import { parseArgs } from 'node:util'
import { fullYear } from '../history/index.ts'
import { buildHistoryYear } from './history-step.ts'
import { createProgress } from './progress.ts'
import { yearMarkdown } from './year-report.ts'
import { measureVigie } from './year-step.ts'

// `npm run bench:year -- --tickets 5000`: the year step alone, printed, RESULTS.md untouched.
const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: String(fullYear.tickets) },
    devices: { type: 'string', default: String(fullYear.devices) },
    probes: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '100' },
    readings: { type: 'string' },
  },
})
const size = { ...fullYear, tickets: Number(values.tickets), devices: Number(values.devices) }
const progress = createProgress({ plan: [{ label: 'year', estimateSeconds: 60 + size.tickets / 300 }] })
progress.begin('year')
const year = await buildHistoryYear({
  size,
  seed: 'vigie',
  progress,
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
  const full = await measureVigie({ ...common, prefix: year.world.prefix, label: 'the year' })
  const empty = await measureVigie({ ...common, prefix: 'empty:', label: 'an empty start' })
  progress.end('measured')
  console.log(yearMarkdown({ size, summary: year.world.summary, timings: year.world.timings, full, empty }))
} finally {
  await year.stop()
}
