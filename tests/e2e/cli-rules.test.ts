import { describe, expect, it } from 'vitest'
import { spawnService } from '../support/service-process.ts'
import { writeTempFile } from '../support/temp-files.ts'

describe('npm run vigie -- rules test', () => {
  it('replays an NDJSON file through the demo rules and names refused lines', async () => {
    const file = writeTempFile(
      'readings.ndjson',
      [
        '{"device":"aed-security-1","type":"aed","present":false,"cabinetOpen":true,"ts":"2026-11-23T09:00:00Z"}',
        '',
        'not json',
        '{"device":"temp-lounge-1","type":"temperature","celsius":900,"ts":"2026-11-23T09:00:05Z"}',
      ].join('\n'),
    )
    const cli = spawnService({
      args: ['--import', 'tsx', 'service/main.ts', 'rules', 'test', '--readings', file],
      env: {},
    })
    expect(await cli.exited).toBe(1)
    expect(cli.output()).toBe(
      [
        '2 readings replayed, 2 refused, 1 incidents:',
        '  2026-11-23T09:00:00.000Z  critical aed-removed  aed-security-1',
        `  refused line 3: not JSON: Unexpected token 'o', "not json" is not valid JSON`,
        '  refused line 4: celsius: Too big: expected number to be <=150; got 900',
        '',
      ].join('\n'),
    )
  })

  it('answers a missing --readings with usage and exit 2', async () => {
    const cli = spawnService({ args: ['--import', 'tsx', 'service/main.ts', 'rules', 'test'], env: {} })
    expect(await cli.exited).toBe(2)
    expect(cli.output()).toContain('rules test needs --readings <file>')
  })
})
