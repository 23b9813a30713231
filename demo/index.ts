export { type AirportStoryOptions, airportBeats, airportStory, type Beat } from './airport-story.ts'
export { createMailSink, type ReceivedMail } from './mail-sink.ts'
export {
  type MessageStandIns,
  type StandInCounts,
  type StandInMessage,
  startMessageStandIns,
} from './message-stand-ins.ts'
export { kpiReport, narrate } from './narration.ts'
export { type DemoOptions, runDemo, type StoryContext } from './run-demo.ts'
export { type ListedMessage, twilioMessageList } from './twilio-message-list.ts'
