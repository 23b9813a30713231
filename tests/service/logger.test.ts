import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../service/index.ts'

function capture() {
  const stream = new PassThrough()
  const lines: Record<string, unknown>[] = []
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
  })
  return { log: createLogger({ level: 'info', destination: stream }), lines }
}

describe('the root logger', () => {
  it('masks phone numbers and emails anywhere in a line, and redacts secrets by key', () => {
    const { log, lines } = capture()
    log.info(
      {
        recipient: '+33600000001',
        note: 'wrote to amina@example.com and +33612345678',
        device: { secret: 'demo-only-secret', nested: [{ password: 'p4ss' }] },
        headers: { authorization: 'Bearer abc' },
      },
      'sent',
    )
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      recipient: '+33•••••••01',
      note: 'wrote to a•••@example.com and +33•••••••78',
      device: { secret: '[redacted]', nested: [{ password: '[redacted]' }] },
      headers: { authorization: '[redacted]' },
      msg: 'sent',
    })
  })

  it('masks the bindings of child loggers', () => {
    const { log, lines } = capture()
    log.child({ part: 'notifier', to: '+33600000002', email: 'bob@example.org' }).info('queued')
    expect(lines[0]).toMatchObject({ part: 'notifier', to: '+33•••••••02', email: 'b•••@example.org' })
  })

  it('logs an error with its cause, masked too', () => {
    const { log, lines } = capture()
    const err = new Error('SMTP refused bob@example.org', { cause: new Error('connection reset') })
    log.error({ err }, 'send failed')
    expect(lines[0]).toMatchObject({
      err: {
        type: 'Error',
        message: 'SMTP refused b•••@example.org',
        cause: { message: 'connection reset' },
      },
    })
    expect(JSON.stringify(lines[0])).not.toContain('bob@example.org')
  })

  it('logs an error that refers to itself, as ioredis errors do, instead of throwing', () => {
    const { log, lines } = capture()
    const err = Object.assign(new Error('Reached the max retries per request limit'), {
      previousErrors: [] as Error[],
    })
    err.previousErrors.push(err)
    expect(() => log.error({ err }, 'cycle failed')).not.toThrow()
    expect(lines[0]).toMatchObject({
      msg: 'cycle failed',
      err: { message: 'Reached the max retries per request limit' },
    })
    expect(JSON.stringify(lines[0])).toContain('[circular]')
  })
})
