export { classifyMessage } from './classify.js'
export type {
  BounceSeverity,
  Classification,
  ClassificationBase,
  ClassificationKind,
  DeliveryRecipient,
  StatusCategory,
} from './types.js'
