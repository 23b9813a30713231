import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, demoSitePath, loadConfig } from '../../config/index.ts'
import { writeTempFile } from '../support/temp-files.ts'

const demoText = readFileSync(demoSitePath, 'utf8')

const minimalSite = `
sites:
  - id: s1
    name: Site one
    timezone: Europe/Paris
    location: { lat: 48.85, lon: 2.35 }
    zones: [{ id: z1, name: Zone one }]
devices:
  - { id: d1, kind: door, site: s1, zone: z1, secret: "long-enough-secret" }
`

function problemsOf(text: string): { where: string; path: string; message: string }[] {
  const path = writeTempFile('site.yaml', text)
  try {
    loadConfig({ env: { VIGIE_CONFIG: path } })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems.map((p) => ({ ...p, where: p.where.replace(path, 'site.yaml') }))
  }
  throw new Error('expected the file to be refused')
}

describe('the demo site', () => {
  const { site } = loadConfig({ env: {} })

  it('is one terminal with at least 3 zones and 24 devices across every kind', () => {
    expect(site.sites).toHaveLength(1)
    expect(site.sites[0]?.zones.length).toBeGreaterThanOrEqual(3)
    expect(site.devices).toHaveLength(24)
    expect(new Set(site.devices.map((d) => d.kind))).toEqual(
      new Set(['temperature', 'door', 'aed', 'heartbeat-only']),
    )
  })

  it('has 6 technicians with different skills, positions and shifts', () => {
    expect(site.technicians).toHaveLength(6)
    expect(new Set(site.technicians.map((t) => t.skills.join(','))).size).toBeGreaterThan(1)
    expect(new Set(site.technicians.map((t) => `${t.location?.lat},${t.location?.lon}`)).size).toBe(6)
    expect(new Set(site.technicians.map((t) => t.shift?.hours.text)).size).toBeGreaterThan(1)
  })

  it('has 6 customers in French and English', () => {
    expect(site.customers).toHaveLength(6)
    expect(new Set(site.customers.map((c) => c.language))).toEqual(new Set(['fr', 'en']))
  })

  it('has every rule kind', () => {
    const kinds = new Set(site.rules.map((r) => (r.group ? 'group' : r.condition.kind)))
    expect(kinds).toEqual(new Set(['above', 'below', 'equals', 'unauthorised', 'silent', 'group']))
    expect(site.rules.some((r) => r.condition.kind === 'equals' && r.for !== undefined)).toBe(true)
  })

  it('normalises durations and conditions', () => {
    const hot = site.rules.find((r) => r.id === 'lounge-too-hot')
    expect(hot).toMatchObject({
      for: 60_000,
      condition: { kind: 'above', field: 'celsius', above: 26, clearBelow: 25.5 },
    })
    expect(site.dispatch.offerTimeout).toBe(120_000)
    expect(site.sla.critical).toBe(900_000)
  })
})

describe('a wrong site file', () => {
  it('names the file, the path and the allowed values for a severity typo', () => {
    const text = demoText.replace(/(id: door-forced[\s\S]*?severity: )critical/, '$1hgh')
    const path = writeTempFile('typo.yaml', text)
    let message = ''
    try {
      loadConfig({ env: { VIGIE_CONFIG: path } })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain(path)
    expect(message).toContain('rules[3].severity')
    expect(message).toContain('expected one of critical, major, minor, info; got "hgh"')
    const line = text.split('\n').findIndex((l) => l.includes('severity: hgh')) + 1
    expect(message).toContain(`${path}:${line} rules[3].severity`)
  })

  it('refuses an unknown key at its own path', () => {
    expect(
      problemsOf(
        minimalSite.replace('secret: "long-enough-secret" }', 'secret: "long-enough-secret", colour: red }'),
      ),
    ).toEqual([{ where: 'site.yaml:9', path: 'devices[0].colour', message: 'unknown key' }])
  })

  it('refuses a wrong type', () => {
    const problems = problemsOf(minimalSite.replace('lat: 48.85', 'lat: north'))
    expect(problems).toEqual([
      { where: 'site.yaml:6', path: 'sites[0].location.lat', message: 'expected number; got "north"' },
    ])
  })

  it('refuses references to things that do not exist', () => {
    const text = `${minimalSite}  - { id: d2, kind: door, site: s1, zone: nowhere, secret: "long-enough-secret" }
rules:
  - { id: r1, match: { zone: z9 }, condition: { field: celsius, above: 30 }, severity: major }
  - { id: r2, match: { kind: door }, condition: { field: open, equals: true }, severity: minor }
  - { id: r2, match: { kind: temperature }, condition: { unauthorised: true }, severity: minor }
`
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'rules[2].id: duplicate rule id "r2" (first used at index 1)',
      'devices[1].zone: no zone "nowhere" in site "s1"; known: z1',
      'rules[0].match.zone: no zone "z9"',
      'rules[2].match.kind: an unauthorised condition applies to doors: add kind: door to match',
    ])
  })

  it('refuses a condition that mixes kinds or tests a field the device does not send', () => {
    const text = `${minimalSite}rules:
  - { id: r1, match: { kind: door }, condition: { field: open, equals: true, silentFor: 5m }, severity: minor }
  - { id: r2, match: { kind: door }, condition: { field: celsius, above: 30 }, severity: minor }
  - { id: r3, condition: { field: celsius, above: 30, clearBelow: 31 }, severity: minor }
`
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'rules[0].condition: needs exactly one of above, below, equals, unauthorised, silentFor; found equals, silentFor',
      'rules[2].condition.clearBelow: clearBelow must not be above the threshold',
    ])
    const second = problemsOf(text.replace(/ {2}- \{ id: r1.*\n/, '').replace(/ {2}- \{ id: r3.*\n/, ''))
    expect(second.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'rules[0].condition.field: no field "celsius" in door readings; known: open, badge, battery',
    ])
  })

  it('refuses bad durations, clock ranges and phone numbers with the expected form', () => {
    const text = `${minimalSite}technicians:
  - { id: t1, name: T, phone: "0600000000", skills: [hvac], shift: { days: [mon], hours: "7h-19h" } }
dispatch: { offerTimeout: 2 minutes }
`
    expect(problemsOf(text)).toEqual([
      {
        where: 'site.yaml:11',
        path: 'technicians[0].phone',
        message: 'a phone number in E.164 form, like +33612345678; got "0600000000"',
      },
      {
        where: 'site.yaml:11',
        path: 'technicians[0].shift.hours',
        message: 'a daily range like "05:00-23:30" (24h clock, may wrap midnight); got "7h-19h"',
      },
      {
        where: 'site.yaml:12',
        path: 'dispatch.offerTimeout',
        message: 'a duration like 90s, 5m or 2h; got "2 minutes"',
      },
    ])
  })

  it('never echoes a secret', () => {
    const problems = problemsOf(minimalSite.replace('long-enough-secret', 'short'))
    expect(problems).toEqual([
      { where: 'site.yaml:9', path: 'devices[0].secret', message: 'a secret of at least 8 characters' },
    ])
  })

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsOf('sites:\n  - id: s1\n   name: broken\n')
    expect(problems[0]?.where).toMatch(/^site\.yaml:3:\d+$/)
    expect(problems[0]?.message).toMatch(/^YAML: /)
  })

  it('refuses a key given twice in one mapping, at its line', () => {
    const problems = problemsOf(minimalSite.replace('name: Site one', 'name: Site one\n    name: Site two'))
    expect(problems).toHaveLength(1)
    expect(problems[0]?.where).toBe('site.yaml:5:5')
    expect(problems[0]?.message).toMatch(/^YAML: .*unique/)
  })

  it('reads YAML 1.2 scalars as the positioned parser does: no dates, yes/no stay words', () => {
    const text = `${minimalSite}technicians:\n  - { id: t1, name: 2026-01-01, phone: "+33600000001", skills: [yes, no, on, 2026-01-01] }\n`
    const { site } = loadConfig({ env: { VIGIE_CONFIG: writeTempFile('site.yaml', text) } })
    expect(site.technicians[0]?.name).toBe('2026-01-01')
    expect(site.technicians[0]?.skills).toEqual(['yes', 'no', 'on', '2026-01-01'])
  })

  it('says when the file does not exist', () => {
    expect(() => loadConfig({ env: { VIGIE_CONFIG: '/nonexistent/site.yaml' } })).toThrow(
      'VIGIE_CONFIG /nonexistent/site.yaml: cannot read the site file: no such file',
    )
  })
})
