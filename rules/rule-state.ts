import { z } from 'zod'

/** Where one rule stands for one device; kept in Redis between readings so any worker can pick it up. */
export const ruleStateSchema = z.object({
  phase: z.enum(['idle', 'pending', 'active']),
  /** When the condition started to hold (pending) or the incident fired (active), epoch ms. */
  since: z.number().optional(),
  /** When a pending condition fires if it still holds, epoch ms. */
  dueAt: z.number().optional(),
  /** The last value of the tested field, for incident updates. */
  lastValue: z.unknown().optional(),
  /** Readings that matched the condition while active: flapping updates, it never opens twice. */
  count: z.number().int(),
})
export type RuleState = z.infer<typeof ruleStateSchema>

export const idleState: RuleState = { phase: 'idle', count: 0 }

/** What evaluation asks the caller to do; the pure core decides, the store applies. */
export type RuleEffect =
  | { type: 'schedule'; at: number }
  | { type: 'cancel' }
  | { type: 'fire'; at: number; value: unknown }
  | { type: 'update'; at: number; value: unknown }
  | { type: 'clear'; at: number; value: unknown }

export type Evaluation = { state: RuleState; effects: RuleEffect[] }
