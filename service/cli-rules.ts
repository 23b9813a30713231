import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { replayReadings } from '../api/index.ts'
import type { Config } from '../config/index.ts'
import { systemClock } from '../domain/index.ts'

export const rulesUsage = `Usage: npm run vigie -- rules test --readings <file.ndjson> [--until <ISO time>] [--json]

  test   replay readings (one JSON object a line: { "device", "ts", ...payload }) through the site
         file's rules and list the incidents that would open; nothing is written anywhere`

/** `vigie rules test`: the same replay as POST /api/rules/dry-run; resolves to the exit code. */
export async function runRulesCommand({
  args,
  readConfig,
}: {
  args: string[]
  readConfig: () => Config
}): Promise<number> {
  let values: { readings?: string; until?: string; json?: boolean; help?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args,
      options: {
        readings: { type: 'string' },
        until: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
    }))
  } catch (error) {
    console.error(`vigie: ${(error as Error).message}\n\n${rulesUsage}`)
    return 2
  }
  if (values.help) {
    console.log(rulesUsage)
    return 0
  }
  if (positionals[0] !== 'test' || !values.readings) {
    console.error(`vigie: rules test needs --readings <file>\n\n${rulesUsage}`)
    return 2
  }
  const until = values.until === undefined ? undefined : Date.parse(values.until)
  if (until !== undefined && Number.isNaN(until)) {
    console.error(`vigie: --until "${values.until}" is not an ISO-8601 time`)
    return 2
  }

  let text: string
  try {
    text = readFileSync(values.readings, 'utf8')
  } catch (error) {
    console.error(`vigie: cannot read ${values.readings}: ${(error as NodeJS.ErrnoException).code ?? error}`)
    return 1
  }
  const lines = text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter(({ line }) => line)
  const readings: unknown[] = []
  const readingLines: number[] = []
  const unreadable: string[] = []
  for (const { line, number } of lines) {
    try {
      readings.push(JSON.parse(line))
      readingLines.push(number)
    } catch (error) {
      unreadable.push(`line ${number}: not JSON: ${(error as Error).message}`)
    }
  }
  const config = readConfig()
  const result = replayReadings({
    world: config.site,
    readings,
    now: systemClock.now(),
    ...(until === undefined ? {} : { until }),
  })
  // Positions in the result count JSON lines only; map them back to file lines for the reader.
  const rejected = [
    ...unreadable,
    ...result.rejected.map(({ index, reason }) => `line ${readingLines[index] ?? index + 1}: ${reason}`),
  ]

  if (values.json) {
    console.log(JSON.stringify({ incidents: result.incidents, rejected }, null, 2))
  } else {
    console.log(
      `${readings.length} readings replayed, ${rejected.length} refused, ${result.incidents.length} incidents:`,
    )
    for (const i of result.incidents) {
      const where = i.device ?? `${i.zone ?? i.site} (zone)`
      const cleared = i.clearedAt ? `, cleared ${i.clearedAt}` : ''
      console.log(`  ${i.openedAt}  ${i.severity.padEnd(8)} ${i.rule}  ${where}${cleared}`)
    }
    for (const line of rejected) console.log(`  refused ${line}`)
  }
  return rejected.length > 0 ? 1 : 0
}
