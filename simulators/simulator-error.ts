// The simulators' own codes: they are a client of vigie, so they stay out of the service's HTTP catalogue.
export type SimulatorErrorCode =
  | 'SIM_BAD_OPTIONS'
  | 'SIM_UNKNOWN_SCENARIO'
  | 'SIM_UNKNOWN_TARGET'
  | 'SIM_NO_SECRET'
  | 'SIM_API_FAILED'

export class SimulatorError extends Error {
  readonly code: SimulatorErrorCode

  constructor({ code, message, cause }: { code: SimulatorErrorCode; message: string; cause?: unknown }) {
    super(message, { cause })
    this.name = 'SimulatorError'
    this.code = code
  }
}
