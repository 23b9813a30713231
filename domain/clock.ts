/** Where every part reads the time (issue 16): one clock passed in, so tests can move time. */
export type Clock = { now: () => number }

// The one place that reads the wall clock; entry points pass it in.
export const systemClock: Clock = { now: Date.now }
