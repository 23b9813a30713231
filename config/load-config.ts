import { readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { load as loadYaml, YAMLException } from 'js-yaml'
import { type Document, LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import { ConfigError, type ConfigProblem, formatPath } from './config-error.ts'
import { demoSiteHost, isDemoSite } from './demo-site-exposure.ts'
import {
  type Settings,
  type SettingsEnvName,
  type SettingsInput,
  settingsEnv,
  settingsSchema,
} from './settings-schema.ts'
import { type SiteFile, siteFileSchema } from './site-schema.ts'
import { describeIssue, flattenIssues } from './zod-problems.ts'

export const demoSitePath = fileURLToPath(new URL('./demo-site.yaml', import.meta.url))

export type Config = {
  settings: Settings
  site: Omit<SiteFile, 'settings'>
  /** Absolute path of the site file that was loaded. */
  sitePath: string
  /** The site file is the demo site, whose device secrets are public: served on loopback unless BIND_HOST says otherwise. */
  demoSite: boolean
}

export type LoadConfigOptions = {
  /** The process environment (only the entry point reads process.env). */
  env: Readonly<Record<string, string | undefined>>
  /** Command-line values, which override the environment, with the flag that gave them. */
  flags?: Partial<Record<keyof SettingsInput, { value: string; flag: string }>>
  /** Directory relative paths are read from; defaults to the working directory. */
  cwd?: string
}

const settingsByEnv = Object.fromEntries(
  Object.entries(settingsEnv).map(([env, key]) => [key, env]),
) as Record<string, SettingsEnvName>

/**
 * Reads VIGIE_CONFIG (default: the demo site) and the environment; throws one ConfigError listing every
 * problem. The demo site listens on loopback unless BIND_HOST is set (issue 15).
 */
export function loadConfig({ env, flags = {}, cwd = process.cwd() }: LoadConfigOptions): Config {
  const sitePath = resolve(cwd, env.VIGIE_CONFIG || demoSitePath)
  const shownPath = relative(cwd, sitePath).startsWith('..') ? sitePath : relative(cwd, sitePath)
  const text = readSiteText(sitePath, shownPath, Boolean(env.VIGIE_CONFIG))
  const problems: ConfigProblem[] = []
  // Lines are looked up in a positioned Document, built only when something is wrong.
  let located: ReturnType<typeof locatedDocument> | undefined
  const where = (path: PropertyKey[]) => {
    located ??= locatedDocument(text, shownPath)
    return `${shownPath}:${lineOf(located.doc, located.lineCounter, path)}`
  }

  const site = siteFileSchema.safeParse(parseSiteText(text, shownPath), { reportInput: true })
  if (!site.success) {
    for (const { path, issue } of flattenIssues(site.error.issues)) {
      problems.push({ where: where(path), path: formatPath(path), message: describeIssue(issue) })
    }
  }

  const fileSettings = site.success ? (site.data.settings ?? {}) : {}
  const fromOutside = new Map<string, string>()
  const rawSettings: Record<string, unknown> = { ...fileSettings }
  for (const [name, key] of Object.entries(settingsEnv)) {
    const value = env[name]
    if (value !== undefined && value !== '') {
      rawSettings[key] = value
      fromOutside.set(key, `environment variable ${name}`)
    }
  }
  for (const [key, given] of Object.entries(flags)) {
    if (given) {
      rawSettings[key] = given.value
      fromOutside.set(key, `flag ${given.flag}`)
    }
  }

  const settings = settingsSchema.safeParse(rawSettings, { reportInput: true })
  if (!settings.success) {
    for (const { path, issue } of flattenIssues(settings.error.issues)) {
      const key = String(path[0] ?? '')
      const outside = fromOutside.get(key)
      problems.push(
        outside
          ? {
              where: outside,
              path: '',
              message: describeIssue(issue, echoedInput(issue, path, rawSettings[key])),
            }
          : {
              where: where(['settings', ...path]),
              path: formatPath(['settings', ...path]),
              message: `${describeIssue(issue)}${settingsByEnv[key] ? ` (or set ${settingsByEnv[key]})` : ''}`,
            },
      )
    }
  }

  if (!site.success || !settings.success) throw new ConfigError({ problems })
  const { settings: _fileSettings, ...siteData } = site.data
  const demoSite = isDemoSite(sitePath, demoSitePath)
  if (demoSite && rawSettings.bindHost === undefined) settings.data.bindHost = demoSiteHost
  return { settings: settings.data, site: siteData, sitePath, demoSite }
}

/** The value to quote back: the raw string as given, unless the issue is about one item of it or about other settings. */
function echoedInput(issue: z.core.$ZodIssue, path: PropertyKey[], raw: unknown): unknown {
  if (issue.code === 'custom' || path.length > 1) return issue.input
  return raw
}

function readSiteText(sitePath: string, shownPath: string, named: boolean): string {
  try {
    return readFileSync(sitePath, 'utf8')
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(cause)
    throw new ConfigError({
      problems: [
        {
          where: named ? 'VIGIE_CONFIG' : 'site file',
          path: shownPath,
          message: `cannot read the site file: ${reason}`,
        },
      ],
      cause,
    })
  }
}

/**
 * The file as plain data, by js-yaml (YAML 1.2 core schema): a 20,000-device file parses in 0.2 s and
 * 70 MB where a positioned Document takes 1.3 s and 230 MB. Any YAML error is reported by the Document.
 */
function parseSiteText(text: string, shownPath: string): unknown {
  try {
    return loadYaml(text, { filename: shownPath })
  } catch (error) {
    locatedDocument(text, shownPath)
    // Both parsers follow YAML 1.2; should they ever disagree, js-yaml's own message is the report.
    const mark = error instanceof YAMLException ? error.mark : undefined
    throw new ConfigError({
      problems: [
        {
          where: mark ? `${shownPath}:${mark.line + 1}:${mark.column + 1}` : shownPath,
          path: '',
          message: `YAML: ${error instanceof YAMLException ? error.reason : String(error)}`,
        },
      ],
    })
  }
}

/** The file as a Document with source positions; throws a ConfigError listing its YAML errors. */
function locatedDocument(text: string, shownPath: string): { doc: Document; lineCounter: LineCounter } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new ConfigError({
      problems: doc.errors.map((error) => {
        const pos = lineCounter.linePos(error.pos[0])
        return {
          where: `${shownPath}:${pos.line}:${pos.col}`,
          path: '',
          message: `YAML: ${error.message.split('\n')[0]}`,
        }
      }),
    })
  }
  return { doc, lineCounter }
}

/** Line of the deepest node of the path that exists in the file. */
function lineOf(doc: Document, lineCounter: LineCounter, path: PropertyKey[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as (string | number)[], true) as
      | { range?: [number, number, number] }
      | undefined
    if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line
  }
  return 1
}
