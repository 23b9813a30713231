export { type Clock, systemClock } from './clock.ts'
export { escapeHtml } from './html-escape.ts'
export {
  isSecretKey,
  maskEmail,
  maskPersonalText,
  maskPhone,
  maskUrlCredentials,
  redactDeep,
} from './personal-data.ts'
export {
  type DeviceKind,
  deviceKindSchema,
  deviceKinds,
  type Reading,
  type ReadingPayload,
  type ReadingType,
  readingFieldsOf,
  readingPayloadSchema,
  readingPayloadSchemas,
  readingSchema,
  readingTypesByKind,
} from './readings.ts'
export {
  isSurveyScore,
  readSurveyAnswer,
  type SurveyAnswer,
  type SurveyKind,
  surveyAnswerDetail,
  surveyKindSchema,
  surveyKinds,
  surveyScales,
  surveyScores,
} from './survey-answers.ts'
export {
  type ErrorCode,
  errorCatalogue,
  isVigieError,
  VigieError,
  type VigieErrorOptions,
} from './vigie-error.ts'
