import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, demoSiteExposure, demoSitePath, loadConfig } from '../../config/index.ts'
import { writeTempFile } from '../support/temp-files.ts'

const demoText = readFileSync(demoSitePath, 'utf8')

function problems(env: Record<string, string>, flags = {}): string[] {
  try {
    loadConfig({ env, flags })
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems.map((p) => `${p.where}${p.path ? ` ${p.path}` : ''}: ${p.message}`)
  }
  throw new Error('expected the settings to be refused')
}

describe('settings', () => {
  it('has the defaults of DESIGN.md', () => {
    const { settings } = loadConfig({ env: {} })
    expect(settings).toMatchObject({
      roles: ['broker', 'api', 'workers', 'notifier'],
      httpPort: 8080,
      mqttPort: 1883,
      publicUrl: 'http://localhost:8080',
      twilioApiUrl: 'https://api.twilio.com',
      redisPrefix: 'vigie:',
    })
    expect(settings.redisUrl).toBeUndefined()
  })

  it('reads Redis Sentinel settings (issue 17), and refuses them half given or beside REDIS_URL', () => {
    const { settings } = loadConfig({
      env: {
        REDIS_SENTINELS: '10.0.0.1:26379, [::1]:26380',
        REDIS_SENTINEL_NAME: 'vigie',
        VIGIE_REDIS_REPLICAS_ACK: '1',
      },
    })
    expect(settings).toMatchObject({
      redisSentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      redisSentinelName: 'vigie',
      redisReplicasAck: 1,
      redisReplicasAckTimeout: 2000,
    })
    expect(problems({ REDIS_SENTINELS: '10.0.0.1:26379' }).join('\n')).toContain('REDIS_SENTINEL_NAME too')
    expect(
      problems({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis://r:6379' }).join('\n'),
    ).toContain('not both')
    expect(problems({ REDIS_SENTINELS: 'no-port', REDIS_SENTINEL_NAME: 'm' }).join('\n')).toContain(
      'host:port',
    )
    expect(problems({ VIGIE_REDIS_REPLICAS_ACK: '-1' })).toHaveLength(1)
  })

  it('reads the environment over the file, and flags over the environment', () => {
    const path = writeTempFile(
      'site.yaml',
      `${demoText}\nsettings:\n  httpPort: 9000\n  mqttPort: 2883\n  roles: [api]\n`,
    )
    const { settings } = loadConfig({
      env: {
        VIGIE_CONFIG: path,
        HTTP_PORT: '9100',
        PUBLIC_URL: 'https://vigie.example/',
        VIGIE_ROLES: 'broker',
      },
      flags: { roles: { value: 'api,workers', flag: '--roles' } },
    })
    expect(settings).toMatchObject({
      httpPort: 9100,
      mqttPort: 2883,
      roles: ['api', 'workers'],
      publicUrl: 'https://vigie.example',
    })
  })

  it('names the environment variable and the value that is wrong', () => {
    expect(problems({ HTTP_PORT: 'eighty', VIGIE_ROLES: 'broker,web' })).toEqual([
      'environment variable VIGIE_ROLES: expected one of broker, api, workers, notifier; got "web"',
      'environment variable HTTP_PORT: a port number from 0 to 65535 (0 picks a free one); got "eighty"',
    ])
  })

  it('names the flag that gave a wrong value', () => {
    expect(problems({}, { roles: { value: 'everything', flag: '--roles' } })).toEqual([
      'flag --roles: expected one of broker, api, workers, notifier; got "everything"',
    ])
  })

  it('names the file path, and the variable that would override it, for a wrong file setting', () => {
    const path = writeTempFile(
      'site.yaml',
      `${demoText}\nsettings:\n  smtpUrl: mail.example\n  colour: red\n`,
    )
    const lines = problems({ VIGIE_CONFIG: path }).map((line) => line.replace(path, 'site.yaml'))
    expect(lines).toEqual([
      expect.stringMatching(
        /^site\.yaml:\d+ settings\.smtpUrl: an smtp:\/\/ or smtps:\/\/ URL; got "mail\.example" \(or set SMTP_URL\)$/,
      ),
      expect.stringMatching(/^site\.yaml:\d+ settings\.colour: unknown key$/),
    ])
  })

  it('asks for the settings that go together', () => {
    expect(problems({ MQTTS_PORT: '8883', TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}` })).toEqual([
      'environment variable MQTTS_PORT: MQTTS needs TLS_CERT and TLS_KEY too',
      'environment variable TWILIO_ACCOUNT_SID: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together',
    ])
  })

  it('takes the HTTP limits, with the proxies to trust as a list, and no headers timeout past the request timeout', () => {
    const { settings } = loadConfig({
      env: {
        HTTP_TRUST_PROXY: '10.0.0.0/8, loopback,::1',
        RATE_LIMIT_WINDOW: '30s',
        WS_MAX_FRAME_SIZE: '8192',
      },
    })
    expect(settings).toMatchObject({
      httpTrustProxy: ['10.0.0.0/8', 'loopback', '::1'],
      rateLimitWindow: 30_000,
      rateLimitAuthFailures: 30,
      httpRequestTimeout: 30_000,
      httpHeadersTimeout: 10_000,
      wsMaxFrameSize: 8192,
    })
    expect(loadConfig({ env: {} }).settings.httpTrustProxy).toBeUndefined()
    expect(problems({ HTTP_HEADERS_TIMEOUT: '40s', HTTP_TRUST_PROXY: '10.0.0.0/33,proxy.example' })).toEqual([
      'environment variable HTTP_TRUST_PROXY: an address, a CIDR range (10.0.0.0/8), loopback, linklocal or uniquelocal; got "10.0.0.0/33"',
      'environment variable HTTP_TRUST_PROXY: an address, a CIDR range (10.0.0.0/8), loopback, linklocal or uniquelocal; got "proxy.example"',
      'environment variable HTTP_HEADERS_TIMEOUT: at most HTTP_REQUEST_TIMEOUT: the headers are part of the request',
    ])
  })

  it('never echoes a secret it refuses', () => {
    const lines = problems({ VIGIE_ADMIN_KEY: 'tooshort', TWILIO_AUTH_TOKEN: 'x' })
    expect(lines.join('\n')).not.toContain('tooshort')
    expect(lines[0]).toBe(
      'environment variable TWILIO_AUTH_TOKEN: Too small: expected string to have >=16 characters',
    )
  })
})

describe('the demo site, whose device secrets are public (issue 15)', () => {
  it('listens on loopback unless BIND_HOST says otherwise; a site file of your own keeps 0.0.0.0', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ demoSite: true, settings: { bindHost: '127.0.0.1' } })
    expect(loadConfig({ env: { VIGIE_CONFIG: demoSitePath, BIND_HOST: '::' } })).toMatchObject({
      demoSite: true,
      settings: { bindHost: '::' },
    })
    const own = loadConfig({ env: { VIGIE_CONFIG: writeTempFile('my-site.yaml', demoText) } })
    expect(own).toMatchObject({ demoSite: false, settings: { bindHost: '0.0.0.0' } })
  })

  it('is refused on a network address, unless the demo was asked for or nothing listens', () => {
    const on = (env: Record<string, string>) => loadConfig({ env: { BIND_HOST: '0.0.0.0', ...env } })
    expect(demoSiteExposure(on({}), { demoAsked: false })).toEqual({
      where: 'environment variable BIND_HOST',
      path: '',
      message: expect.stringMatching(
        /^the demo site's device secrets are public, so it is served on loopback only/,
      ),
    })
    expect(demoSiteExposure(on({}), { demoAsked: true })).toBeUndefined()
    expect(demoSiteExposure(on({ VIGIE_ROLES: 'workers' }), { demoAsked: false })).toBeUndefined()
    expect(demoSiteExposure(on({ BIND_HOST: '::1' }), { demoAsked: false })).toBeUndefined()
    const own = on({ VIGIE_CONFIG: writeTempFile('my-site.yaml', demoText) })
    expect(demoSiteExposure(own, { demoAsked: false })).toBeUndefined()
  })
})
