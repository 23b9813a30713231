import { describe, expect, it } from 'vitest'
import { siteFileSchema } from '../../config/index.ts'

const siteWith = (voiceMessageUrl: string) => ({
  sites: [
    {
      id: 's1',
      name: 'Site one',
      timezone: 'Europe/Paris',
      location: { lat: 48.85, lon: 2.35 },
      voiceMessageUrl,
    },
  ],
})

// Issue 19: the console's CSP names this URL's origin, so the URL must not be able to write CSP itself.
describe("a site's voiceMessageUrl", () => {
  it('takes http(s) recordings on a name, an IPv4 or an IPv6 address', () => {
    for (const url of [
      'https://audio.example/aed-t3.mp3',
      'http://127.0.0.1:8081/t3.wav',
      'https://[::1]:8443/t3.wav',
      'https://bücher.example/a.mp3',
    ])
      expect(siteFileSchema.safeParse(siteWith(url)).success, url).toBe(true)
  })

  it('refuses other schemes and hosts that would add to the CSP', () => {
    for (const url of [
      'javascript:alert(1)',
      'data:audio/wav;base64,UklGRg==',
      'ftp://audio.example/a.mp3',
      "http://x;script-src 'unsafe-inline'/a.wav",
      'http://x;script-src/a.wav',
      'https://a.example,evil.example/a.mp3',
    ]) {
      const result = siteFileSchema.safeParse(siteWith(url))
      expect(result.success, url).toBe(false)
      expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['sites.0.voiceMessageUrl', 'an http(s) URL of a recording, its host a plain name or address'],
      ])
    }
  })
})
