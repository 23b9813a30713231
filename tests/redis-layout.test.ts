// Issue 16, one data layer: Lua in .lua files with a header, and every key named once in its folder's keys module.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { apiRedisKeys } from '../api/index.ts'
import { brokerKeys } from '../broker/index.ts'
import { createNotificationStore, notificationKeys } from '../notifier/index.ts'
import {
  createIncidentStore,
  deviceCorrelationKey,
  offerTimerMember,
  ruleKeys,
  timerMember,
} from '../rules/index.ts'
import { serviceKeys } from '../service/index.ts'
import { openTestRedis } from './support/redis.ts'

const root = dirname(fileURLToPath(import.meta.url)).replace(/\/tests$/, '')
// The service's code. tests/ and bench/ read the layout from outside, as an operator would, and pin its names.
const outside = new Set(['tests', 'bench', 'node_modules', 'docs', 'data', 'scripts'])
const codeDirs = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !outside.has(entry.name))
  .map((entry) => entry.name)

const filesUnder = (dir: string, ending: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith(ending) && !name.includes('node_modules'))
    .map((name) => join(dir, name))

const sources = codeDirs.flatMap((dir) => filesUnder(dir, '.ts'))
const scripts = codeDirs.flatMap((dir) => filesUnder(dir, '.lua'))
const text = (file: string) => readFileSync(join(root, file), 'utf8')

describe('Lua scripts', () => {
  it('live in a scripts/ folder and open with a header naming their KEYS, ARGV and reply', () => {
    expect(scripts).toContain(join('rules', 'scripts', 'swap-ticket.lua'))
    for (const file of scripts) {
      expect(basename(dirname(file)), file).toBe('scripts')
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(text(file))?.[1] ?? ''
      expect(header, `${file} opens with a --[[ ... ]] header`).not.toBe('')
      expect(header, file).toMatch(/KEYS\[1\]/)
      expect(header, file).toMatch(/ARGV\[1\]/)
      expect(header, file).toMatch(/Reply:/)
    }
  })

  it('are each loaded by a module of their folder, and every script a module loads exists', () => {
    const loaded = sources.flatMap((file) =>
      [...text(file).matchAll(/new URL\('\.\/(scripts\/[\w-]+\.lua)'/g)].map((m) =>
        join(dirname(file), m[1] ?? ''),
      ),
    )
    expect(new Set(loaded)).toEqual(new Set(scripts))
  })

  it('are committed: a clean clone runs them from source', () => {
    const tracked = execFileSync('git', ['ls-files', '--', ...scripts], { cwd: root, encoding: 'utf8' })
    expect(new Set(tracked.split('\n').filter(Boolean))).toEqual(new Set(scripts))
  })

  it('are no longer written inline in TypeScript', () => {
    expect(sources.filter((file) => /redis\.call\(|\.eval\(/.test(text(file)))).toEqual([])
  })
})

describe('Redis keys', () => {
  it('are built from the prefix only in the keys modules', () => {
    const literal = /\$\{[\w.]*[pP]refix\}[\w:-]/
    const offenders = sources
      .filter((file) => basename(file) !== 'keys.ts')
      .flatMap((file) =>
        text(file)
          .split('\n')
          .flatMap((line, i) =>
            literal.test(line) ? [`${relative(root, join(root, file))}:${i + 1}: ${line.trim()}`] : [],
          ),
      )
    expect(offenders).toEqual([])
  })

  it('keep the names deployments hold data under', () => {
    const p = 'vigie:'
    expect(notificationKeys(p).optedOut).toBe('vigie:opted-out')
    expect(notificationKeys(p).surveyPending('+33600000101')).toBe('vigie:survey-pending:+33600000101')
    expect(notificationKeys(p).linkSecret).toBe('vigie:link-secret')
    expect(notificationKeys(p).rate('sms', 'x')).toBe('vigie:rate:sms:x')
    expect(notificationKeys(p).digest('sms', 'x')).toBe('vigie:digest:sms:x')
    expect(notificationKeys(p).customers).toBe('vigie:customers')
    expect(notificationKeys(p).customerOrigins).toBe('vigie:customer-origins')
    expect(notificationKeys(p).bull).toBe('vigie:bull')
    expect(apiRedisKeys(p).webhookSeen('ab12')).toBe('vigie:webhook-seen:ab12')
    expect(apiRedisKeys(p).rateLimit).toBe('vigie:rate-limit:')
    expect(serviceKeys(p).retentionLease).toBe('vigie:retention-lease')
    expect(brokerKeys(p).sessions).toBe('vigie:mqtt:')
    expect(brokerKeys(p).busChannels).toBe('vigie:mqtt/')
    expect(brokerKeys(p).clientIds).toBe('vigie:mqtt-client-ids')
    expect(brokerKeys(p).nodes).toBe('vigie:mqtt-nodes')
    expect(ruleKeys(p).lease(3)).toBe('vigie:rules-lease:3')
    expect(ruleKeys(p).ticketIndexBuildMark).toBe('vigie:ticket-index-version:build-started')
  })

  it('encode sorted-set members one way, read back the same', () => {
    expect(timerMember.of({ kind: 'rule', rule: 'door-held-open', device: 'door-1' })).toBe(
      'door-held-open|door-1',
    )
    expect(timerMember.of({ kind: 'resolve', correlationKey: 'r:door-1' })).toBe('resolve|r:door-1')
    expect(timerMember.read('door-held-open|door-1')).toEqual({
      kind: 'rule',
      rule: 'door-held-open',
      device: 'door-1',
    })
    expect(timerMember.read('resolve|r:door-1')).toEqual({ kind: 'resolve', correlationKey: 'r:door-1' })
    expect(deviceCorrelationKey('door-held-open', 'door-1')).toBe('door-held-open:door-1')
    expect(offerTimerMember.of('t-1', 'tech-amina')).toBe('t-1|tech-amina')
    expect(offerTimerMember.read('t-1|tech-amina')).toEqual({ ticket: 't-1', technician: 'tech-amina' })
  })
})

describe('documents read back from Redis', () => {
  it('are decoded by their schema: one that does not fit is an error, not a value of the wrong shape', async () => {
    const { redis, prefix } = await openTestRedis()
    try {
      const keys = ruleKeys(prefix)
      const incidents = createIncidentStore({ redis, keys })
      const notifications = createNotificationStore({ redis, keys: notificationKeys(prefix) })
      await redis.set(keys.incident('bad'), JSON.stringify({ id: 'bad', status: 'open?' }))
      await redis.set(
        notificationKeys(prefix).notification('bad'),
        JSON.stringify({ id: 'bad', attempts: 'two' }),
      )
      await expect(incidents.get('bad')).rejects.toThrow(/invalid/i)
      await expect(notifications.get('bad')).rejects.toThrow(/invalid/i)
      expect(await incidents.get('absent')).toBeNull()
    } finally {
      await redis.quit()
    }
  })
})
