#!/usr/bin/env node
// Installs what a fresh machine lacks before vigie runs: npm dependencies, redis-server, mosquitto, chromium,
// haproxy. Plain Node with no dependency, since it runs before node_modules exists.
// Usage: node scripts/setup.mjs [--quiet] [--need redis,mosquitto,chromium,haproxy]
//   (npm test needs them all; npm start needs redis only without REDIS_URL: --need local-redis)
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const quiet = args.includes('--quiet')
const needs = args.flatMap((arg, i) => (arg === '--need' ? (args[i + 1] ?? '').split(',') : []))
const say = (line) => {
  if (!quiet) console.log(`setup: ${line}`)
}

function fail(lines) {
  console.error(['', ...lines.map((line) => `setup: ${line}`), ''].join('\n'))
  process.exit(1)
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', cwd: root, ...options })
  return result.status === 0
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number)
  if (major < 20 || (major === 20 && minor < 19)) {
    fail([`vigie needs Node.js 20.19 or newer; this is ${process.versions.node}.`])
  }
}

// node_modules is stale when package.json or the lockfile changed since the last install.
function ensureDependencies() {
  const stampFile = join(root, 'node_modules', '.vigie-install-stamp')
  const hash = createHash('sha256')
  for (const file of ['package.json', 'package-lock.json']) {
    const path = join(root, file)
    if (existsSync(path)) hash.update(readFileSync(path))
  }
  const want = hash.digest('hex')
  const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : ''
  if (have === want) return
  say(have ? 'dependencies changed; running npm install' : 'node_modules missing; running npm install')
  // Not `npm ci`: it refuses a lockfile whose other-platform optional packages the registry lacks (npm/cli#9846);
  // `npm install` still installs the locked versions.
  if (!run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'])) {
    fail(['npm install failed (see above). Check that the npm registry is reachable, then run it again.'])
  }
  writeFileSync(stampFile, `${want}\n`)
}

function findProgram(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name)
  }
  return null
}

function aptInstall(packages, reasons) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const hasApt = findProgram('apt-get') !== null
  const sudo = !isRoot && hasApt && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0
  if (!hasApt || (!isRoot && !sudo)) {
    fail([
      ...reasons,
      hasApt
        ? `Install once with: sudo apt-get install -y ${packages.join(' ')}`
        : `Install ${packages.join(', ')} with your system's package manager.`,
      'Then run the same command again.',
    ])
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // Debian's postinst may start the system daemon; vigie and its tests start their own on other ports.
  const apt = (aptArgs) =>
    sudo ? run('sudo', ['-n', 'apt-get', ...aptArgs], { env }) : run('apt-get', aptArgs, { env })
  say(`installing ${packages.join(', ')} from Debian's packages`)
  if (!(apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]))) {
    fail([`apt-get could not install ${packages.join(', ')} (see above).`])
  }
}

// What --need can ask for: the program looked up, the Debian package providing it, and why vigie needs it.
const programs = {
  redis: {
    program: 'redis-server',
    debian: 'redis-server',
    why: 'to store its state (tests start their own redis-server)',
  },
  mosquitto: {
    program: 'mosquitto',
    debian: 'mosquitto',
    why: 'to test external-broker mode (tests start their own mosquitto, never the system one)',
    // Debian enables the system broker on 1883, vigie's default MQTT_PORT.
    note: 'if the system mosquitto now holds 1883: sudo systemctl disable --now mosquitto, or set MQTT_PORT',
  },
  'mosquitto-clients': {
    program: 'mosquitto_sub',
    debian: 'mosquitto-clients',
    why: 'to test that generic MQTT clients (mosquitto_sub, mosquitto_pub) work on an integration account',
  },
  chromium: {
    program: 'chromium',
    debian: 'chromium',
    why: "to run the console's browser tests (playwright-core drives Debian's chromium; nothing is downloaded)",
  },
  haproxy: {
    program: 'haproxy',
    debian: 'haproxy',
    why: 'to put several vigie nodes behind one MQTT address (tests start their own haproxy, never the system one)',
    // Debian's package enables a system haproxy; its default config listens on no port vigie uses.
  },
}

function ensurePrograms(names) {
  const unknown = names.filter((name) => !Object.hasOwn(programs, name))
  if (unknown.length > 0) {
    fail([`unknown --need ${unknown.join(', ')}; known: local-redis, ${Object.keys(programs).join(', ')}.`])
  }
  const missing = names.map((name) => programs[name]).filter(({ program }) => !findProgram(program))
  if (missing.length === 0) return
  aptInstall(
    missing.map(({ debian }) => debian),
    missing.map(({ program, why }) => `${program} is missing; vigie needs it ${why}.`),
  )
  const still = missing.filter(({ program }) => !findProgram(program))
  if (still.length > 0)
    fail([`${still.map(({ program }) => program).join(', ')} still missing after installing.`])
  for (const { note } of missing) if (note) say(note)
}

checkNode()
ensureDependencies()
const wanted = needs.filter((name) => name !== '' && name !== 'local-redis')
if (needs.includes('local-redis') && !process.env.REDIS_URL && !process.env.REDIS_SENTINELS)
  wanted.push('redis')
ensurePrograms([...new Set(wanted)])
say('ready')
