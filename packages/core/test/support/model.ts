/** Model objects as a store would return them, for tests of core's pure parts (explain, messages). */
import type { Campaign, Mailbox } from '../../src/model/types.js'
import { CAMPAIGN_DEFAULTS } from '../../src/model/validate.js'

/** When the objects were created. */
export const MODEL_T0 = new Date('2026-01-01T00:00:00Z')

/** A running campaign with the in-house defaults, one step, on mailbox `mb-1`. */
export function makeCampaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-1',
    name: 'Q4 outreach',
    status: 'IN_PROGRESS',
    ...CAMPAIGN_DEFAULTS,
    mailboxIds: ['mb-1'],
    steps: [{ subject: 'Hi', text: 'Hello' }],
    variables: [],
    createdAt: MODEL_T0,
    updatedAt: MODEL_T0,
    settingsVersion: 1,
    nextSlotAt: null,
    lastMailboxId: null,
    externalId: null,
    ...overrides,
  }
}

/** A mailbox `${id}@acme.test` of 50 a day in UTC, with no other limit. */
export function makeMailbox(id: string, overrides: Partial<Mailbox> = {}): Mailbox {
  return {
    id,
    email: `${id}@acme.test`,
    name: null,
    dailyEmailLimit: 50,
    hourlyLimit: null,
    rampUp: null,
    rampLevel: 0,
    rampDayKey: null,
    provider: null,
    timezone: 'UTC',
    pausedUntil: null,
    pauseReason: null,
    skipDates: [],
    createdAt: MODEL_T0,
    updatedAt: MODEL_T0,
    ...overrides,
  }
}
