import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** CPU time and memory of one process, read from /proc (Linux only). */
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

/** utime + stime from /proc/<pid>/stat, VmRSS and VmHWM from /proc/<pid>/status; null once it is gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces and parentheses: the fields counted start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return {
      cpuSeconds: ticks / ticksPerSecond,
      rssBytes: statusKilobytes(status, 'VmRSS'),
      peakRssBytes: statusKilobytes(status, 'VmHWM'),
    }
  } catch {
    return null
  }
}

/** Share of one core a process used between two samples taken seconds apart. */
export function cpuShare(before: ProcessSample | null, after: ProcessSample | null, seconds: number): number {
  if (!before || !after || seconds <= 0) return Number.NaN
  return (after.cpuSeconds - before.cpuSeconds) / seconds
}
