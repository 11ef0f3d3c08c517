import type { Step } from '../model/types.js'
import { addMs } from './instant.js'

const DAY_MS = 86_400_000

/**
 * The step that follows `step` in a sequence and when it is due: `delayDays` after `sentAt`, the
 * moment the previous email left (or, for a send whose end is unknown, when it is recorded).
 * Undefined after the last step. The one place where a follow-up's due time is decided: the send,
 * the `beforeSend` veto, imports and the forecast all ask here. Windows and pacing then apply to
 * that due time as to any other. Clamped, as every computed instant, to the latest a store holds.
 */
export function nextStepAfter(
  steps: readonly Pick<Step, 'delayDays'>[],
  step: number,
  sentAt: Date,
): { step: number; scheduledAt: Date } | undefined {
  const next = steps[step + 1]
  if (!next) return undefined
  return { step: step + 1, scheduledAt: addMs(sentAt, (next.delayDays ?? 0) * DAY_MS) }
}
