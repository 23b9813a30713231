import { VigieError } from '../domain/index.ts'

/** One problem in the settings, located in the file (with its line) or in the environment. */
export type ConfigProblem = { where: string; path: string; message: string }

/** A wrong setting or site file: one message naming the file, the path and the reason of each problem. */
export class ConfigError extends VigieError {
  readonly problems: ConfigProblem[]

  constructor({ problems, cause }: { problems: ConfigProblem[]; cause?: unknown }) {
    const lines = problems.map((p) => `  ${[p.where, p.path].filter(Boolean).join(' ')}: ${p.message}`)
    const noun = problems.length === 1 ? 'problem' : 'problems'
    super({
      code: 'CONFIG_INVALID',
      message: `Invalid configuration (${problems.length} ${noun}):\n${lines.join('\n')}`,
      cause,
    })
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** `rules[3].severity` from ['rules', 3, 'severity']. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('')
}
