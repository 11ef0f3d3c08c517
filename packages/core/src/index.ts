/**
 * mailcadence: send cold-email and outreach campaigns from a Node host, paced, windowed, rotated
 * over mailboxes within daily limits, and never twice.
 *
 * @packageDocumentation
 */

export { type ErrorCode, isMailcadenceError, MailcadenceError } from './errors.js'
// What comes back from the inbox (issue #15): the shapes applyInbound takes and returns, free mail.
export type * from './inbound/types.js'
export type { UnsubscribeTarget, UnsubscribeUrl } from './message/build.js'
export {
  enumerateSpintax,
  parseSpintax,
  printSpintax,
  type SpinNode,
  SpintaxError,
} from './message/spintax.js'
export { weightedVariant } from './message/variants.js'
export {
  type CompareInput,
  type Comparison,
  type ComparisonRow,
  compareWithLegacy,
  type Discrepancy,
  type DiscrepancyKind,
} from './migration/compare.js'
export type * from './migration/types.js'
export { INPUT_LIMITS, type InputLimits } from './model/limits.js'
export type * from './model/types.js'
export { emailKey } from './model/validate.js'
export type { RetryPolicy } from './policy/backoff.js'
// Pure policy, exported for hosts that plan or display schedules (and for adapters' own checks).
export {
  dayKey,
  hourKey,
  isInWindow,
  nextWindowOpen,
  type WindowSpec,
  windowDayKey,
} from './policy/calendar.js'
export { classifySendError, type SendFailure } from './policy/classify.js'
export { FREE_MAIL_DOMAINS, isFreeMailDomain } from './policy/free-mail.js'
export {
  DEFAULT_GUARDS,
  type GuardFigures,
  type GuardName,
  type GuardSettings,
} from './policy/guards.js'
export { REQUEUE_ENDED_STATUSES, requeueStopReason } from './policy/requeue.js'
export { type Arm, pickWinner, probabilityBest } from './policy/winner.js'
export { type HolidayCalendar, windowKeyOf } from './policy/zones.js'
export { createScheduler, type MailboxCheck, type Scheduler } from './scheduler/create.js'
export type { SchedulerEvent, TickResult, TickSkipReason } from './scheduler/events.js'
export type { ExplainCode, ExplainReason, Explanation, MailboxState } from './scheduler/explain.js'
export type {
  Forecast,
  ForecastBottleneck,
  ForecastDay,
  ForecastOptions,
} from './scheduler/forecast/index.js'
export type { ComplaintResult, ComplaintTarget, GuardTrip } from './scheduler/guards.js'
export type { CampaignPage, CampaignPageQuery, DaySends } from './scheduler/inspect.js'
export type { ExternalSendInput } from './scheduler/migration.js'
export type {
  AlreadySent,
  BeforeSendContext,
  BeforeSendVerdict,
  Clock,
  Logger,
  SchedulerOptions,
} from './scheduler/options.js'
export type { PreviewLead, PreviewMessage, PreviewOptions } from './scheduler/preview.js'
export type { StepVariantStats, VariantStat } from './scheduler/variants.js'
export type * from './store.js'
export type * from './transport.js'
