import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** CPU time and memory of a process and its descendants, read from /proc (Linux only). */
export type ProcessSample = { cpuSeconds: number; rssBytes: number; peakRssBytes: number }

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
}

const ticksPerSecond = clockTicksPerSecond()

function statusKilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  return match ? Number(match[1]) * 1024 : 0
}

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name may hold spaces and parentheses: the fields counted start after the last ")".
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** The process and every process it started, however deep (vigie runs its rule workers in a child). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const parent = Number(statFields(Number(entry))[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
    } catch {
      // Gone between the listing and the read.
    }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []))
  return tree
}

/**
 * utime + stime from /proc/<pid>/stat, VmRSS and VmHWM from /proc/<pid>/status, summed over the process
 * and its descendants (peaks summed, so an upper bound); null once the process is gone.
 */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    statFields(pid)
  } catch {
    return null
  }
  const total: ProcessSample = { cpuSeconds: 0, rssBytes: 0, peakRssBytes: 0 }
  for (const member of processTree(pid)) {
    try {
      const fields = statFields(member)
      const status = readFileSync(`/proc/${member}/status`, 'utf8')
      total.cpuSeconds += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
      total.rssBytes += statusKilobytes(status, 'VmRSS')
      total.peakRssBytes += statusKilobytes(status, 'VmHWM')
    } catch {
      // A child that just ended counts no more.
    }
  }
  return total
}

/** Share of one core a process used between two samples taken seconds apart. */
export function cpuShare(before: ProcessSample | null, after: ProcessSample | null, seconds: number): number {
  if (!before || !after || seconds <= 0) return Number.NaN
  return (after.cpuSeconds - before.cpuSeconds) / seconds
}
