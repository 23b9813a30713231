import type { Rule, Site } from '../config/index.ts'
import type { Reading } from '../domain/index.ts'
import type { Evaluation, RuleState } from './rule-state.ts'
import { isWithinLocalRange } from './site-clock.ts'

/** The condition's verdict on one reading: raise, clear, hold the current phase, or say nothing. */
type Verdict = 'raise' | 'clear' | 'hold' | 'none'

function verdictOf(
  rule: Rule,
  reading: Reading,
  site: Site | undefined,
): { verdict: Verdict; value: unknown } {
  const condition = rule.condition
  const fields = reading as Record<string, unknown>
  switch (condition.kind) {
    case 'above':
    case 'below': {
      const value = fields[condition.field]
      if (typeof value !== 'number') return { verdict: 'none', value }
      const raised = condition.kind === 'above' ? value > condition.above : value < condition.below
      // Between the threshold and the clear level nothing changes: that band is the hysteresis.
      const cleared = condition.kind === 'above' ? value < condition.clearBelow : value > condition.clearAbove
      return { verdict: raised ? 'raise' : cleared ? 'clear' : 'hold', value }
    }
    case 'equals': {
      const value = fields[condition.field]
      if (value === undefined) return { verdict: 'none', value }
      return { verdict: value === condition.equals ? 'raise' : 'clear', value }
    }
    case 'unauthorised': {
      if (reading.type !== 'door') return { verdict: 'none', value: undefined }
      if (!reading.open) return { verdict: 'clear', value: false }
      const outsideHours =
        site?.accessHours !== undefined &&
        !isWithinLocalRange(site.accessHours, Date.parse(reading.ts), site.timezone)
      return { verdict: reading.badge === undefined || outsideHours ? 'raise' : 'none', value: true }
    }
    case 'silent':
      // Any reading proves the device speaks; the silence sweep raises it.
      return { verdict: 'clear', value: undefined }
  }
}

/**
 * The pure core of a rule: one reading in, the next state and the effects out. The same function serves
 * the live workers and the dry run, so what the dry run shows is what would happen.
 */
export function evaluateReading({
  rule,
  state,
  reading,
  site,
}: {
  rule: Rule
  state: RuleState
  reading: Reading
  site: Site | undefined
}): Evaluation {
  const at = Date.parse(reading.ts)
  const { verdict, value } = verdictOf(rule, reading, site)
  if (verdict === 'none') return { state, effects: [] }

  switch (state.phase) {
    case 'idle':
      if (verdict !== 'raise') return { state, effects: [] }
      if (rule.for) {
        const dueAt = at + rule.for
        return {
          state: { phase: 'pending', since: at, dueAt, lastValue: value, count: 0 },
          effects: [{ type: 'schedule', at: dueAt }],
        }
      }
      return {
        state: { phase: 'active', since: at, lastValue: value, count: 1 },
        effects: [{ type: 'fire', at, value }],
      }
    case 'pending':
      // The condition must hold for the whole period: anything but a raise restarts the wait.
      if (verdict === 'raise') return { state: { ...state, lastValue: value }, effects: [] }
      return { state: { phase: 'idle', count: 0 }, effects: [{ type: 'cancel' }] }
    case 'active':
      if (verdict === 'clear')
        return { state: { phase: 'idle', count: 0 }, effects: [{ type: 'clear', at, value }] }
      if (verdict === 'raise') {
        return {
          state: { ...state, lastValue: value, count: state.count + 1 },
          effects: [{ type: 'update', at, value }],
        }
      }
      return { state: { ...state, lastValue: value }, effects: [] }
  }
}

/** A pending condition whose time came: it fires with the last value seen. */
export function evaluateTimer({ state, now }: { state: RuleState; now: number }): Evaluation {
  if (state.phase !== 'pending' || state.dueAt === undefined || state.dueAt > now)
    return { state, effects: [] }
  return {
    state: { phase: 'active', since: state.dueAt, lastValue: state.lastValue, count: 1 },
    effects: [{ type: 'fire', at: state.dueAt, value: state.lastValue }],
  }
}
