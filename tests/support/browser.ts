import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

// Debian's chromium, installed by scripts/setup.mjs: playwright-core never downloads a browser.
const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path))

/** Headless Chromium with the network chatter off: this machine's closed network refuses it anyway. */
export async function launchChromium(): Promise<Browser> {
  if (!executablePath) throw new Error('chromium is missing: run `npm run setup -- --need chromium`')
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
