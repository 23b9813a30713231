// `npm run demo`: vigie on the demo airport, its stand-in phones and mailboxes, and the story.
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { ConfigError, demoSitePath, loadConfig } from '../config/index.ts'
import { createLogger } from '../service/index.ts'
import { airportStory } from './airport-story.ts'
import { runDemo } from './run-demo.ts'

const usage = `Usage: npm run demo [-- --no-story]

Runs vigie on the demo site (CDG Terminal 2). Without TWILIO_* and SMTP_URL settings its messages go to
local stand-ins that keep them and print them here. --no-story runs the service alone.
LOG_LEVEL (warn by default here) shows vigie's own log lines.`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'no-story': { type: 'boolean', default: false }, help: { type: 'boolean' } },
  })
  if (values.help) return console.log(usage)
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig({ env: { LOG_LEVEL: 'warn', ...process.env, VIGIE_CONFIG: demoSitePath } })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`vigie demo: ${error.message}`)
    process.exit(2)
  }
  // The demo needs a way into the API; without a configured key it makes one for this run only.
  const adminKey = config.settings.adminKey ?? randomBytes(24).toString('base64url')
  const log = createLogger({ level: config.settings.logLevel, pretty: process.stdout.isTTY === true })
  const demo = await runDemo({
    config,
    log,
    adminKey,
    print: (line) => console.log(line),
    ...(values['no-story'] ? {} : { story: airportStory() }),
  })

  let closing = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) process.exit(130) // a second signal means "now"
      closing = true
      console.log(`\nstopping (${signal})…`)
      void demo.close(signal).then((clean) => process.exit(clean ? 0 : 1))
    })
  }
  // The key rides in the fragment, which the browser never sends: the dashboard opens signed in.
  console.log(`\nvigie is running: API at ${demo.httpUrl}  (API docs: ${demo.httpUrl}/docs)`)
  console.log(`  dashboard, signed in for this run: ${demo.httpUrl}/#key=${adminKey}`)
  if (!process.env.VIGIE_ADMIN_KEY) console.log(`  admin API key for this run: ${adminKey}`)
  if (demo.standIns) console.log('  messages go to local stand-ins and are printed here')
  if (values['no-story']) return
  console.log('\nThe story (about five minutes): a lounge gets hot, a door is forced, an AED is taken.\n')
  await demo.play()
  // A Ctrl-C ends the story too: it is over then, but vigie is stopping, not running on.
  if (!closing)
    console.log('\nThe story is over; vigie keeps running for you to look around. Ctrl-C stops it.')
}

main().catch((err: unknown) => {
  console.error('vigie demo: could not start:', err instanceof Error ? err.message : err)
  process.exit(1)
})
