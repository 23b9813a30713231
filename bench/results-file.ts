import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus } from 'node:os'

/** What every bench states about where and when it ran. */
export type Machine = { date: string; node: string; nproc: number; cpuModel: string; memory: string }

export function describeMachine(): Machine {
  let memory = '(free not available)'
  try {
    memory = execFileSync('free', ['-h'], { encoding: 'utf8' })
  } catch {
    // Not every system has free(1): the figures stand without it.
  }
  return {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    node: process.version,
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown CPU',
    memory,
  }
}

/** The lines that say where a run was made: the machine, then what the bench adds (ending in a full stop). */
export function machineLines(
  machine: Pick<Machine, 'nproc' | 'cpuModel' | 'node' | 'memory'>,
  detail: string,
) {
  return [
    `Machine: ${machine.nproc} cores (\`nproc\`), ${machine.cpuModel}; node ${machine.node}; ${detail}`,
    '',
    '```',
    '$ free -h',
    machine.memory.trimEnd(),
    '```',
    '',
  ]
}

/**
 * A bench's section of bench/RESULTS.md, between its markers, replaced by a new run; what people wrote
 * around it stays. A file without the markers gets the section where `place` says.
 */
export function replaceSection({
  text,
  begin,
  end,
  section,
  place,
}: {
  text: string
  begin: string
  end: string
  section: string
  place: (block: string) => string
}): string {
  const from = text.indexOf(begin)
  const to = text.indexOf(end)
  if (from >= 0 && to > from) return `${text.slice(0, from + begin.length)}\n${section}\n${text.slice(to)}`
  return place(`${begin}\n${section}\n${end}\n`)
}
