export {
  batteryAt,
  dailySwing,
  dailySwingCelsius,
  defaultHeatCelsius,
  heatedCelsius,
  nextBadgedOpening,
  normalCelsius,
} from './behaviours.ts'
export { parseSimulatorArgs, type SimulatorFlags } from './cli-options.ts'
export { type Clock, createManualClock, type ManualClock, systemClock, waitOn } from './clock.ts'
export { answerCommand, type CommandAnswer } from './command-answers.ts'
export {
  createDeviceTimeline,
  type DeviceChange,
  type DeviceTimeline,
  type Pace,
  type SimReading,
} from './device-timeline.ts'
export { createFleet, type Fleet, type FleetOptions, type ScenarioRun } from './fleet.ts'
export { generateSite, siteFileYaml } from './generated-fleet.ts'
export { createMqttTransport, type MqttTransportOptions } from './mqtt-transport.ts'
export { type FleetStats, formatStats } from './publish-stats.ts'
export { createRandom, type Random } from './random.ts'
export {
  parseScenarioCue,
  type ScenarioCue,
  type ScenarioName,
  type ScenarioOptions,
  scenarioDevices,
  scenarioNames,
} from './scenarios.ts'
export { type FleetSite, type SimDevice, simulatableDevices } from './sim-device.ts'
export { SimulatorError, type SimulatorErrorCode } from './simulator-error.ts'
export { localMinuteOfDay } from './site-time.ts'
export {
  createTechnicianSim,
  type TechnicianSim,
  type TechnicianSimOptions,
  type TechnicianStep,
} from './technician-sim.ts'
export type { CommandListener, DeviceLink, Transport } from './transport.ts'
export {
  createVigieClient,
  type OfferedTicket,
  type VigieClient,
  type VigieClientOptions,
} from './vigie-client.ts'
