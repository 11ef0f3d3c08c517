/**
 * explain() names a guard's pause as `guard`, with the figures: a campaign a guard paused (in place
 * of `not-running`), and mailboxes a guard paused that hold the campaign back (in place of
 * `mailbox-paused`, which stays for the mailboxes the host paused).
 */
import { describe, expect, it } from 'vitest'
import { LATEST_PAUSE_MS } from '../src/model/limits.js'
import type { Campaign, Mailbox } from '../src/model/types.js'
import { explainCampaign } from '../src/scheduler/explain.js'
import { makeCampaign as baseCampaign, makeMailbox } from './support/model.js'

const T0 = new Date('2026-01-01T00:00:00Z')
const NOW = new Date('2026-01-07T12:00:00Z')
const UNTIL_RESUMED = new Date(LATEST_PAUSE_MS)
const GUARD_REASON = 'guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5%'

const makeCampaign = (overrides: Partial<Campaign> = {}): Campaign =>
  baseCampaign({ mailboxIds: ['mb-1', 'mb-2'], ...overrides })

const guardPaused = (id: string) => makeMailbox(id, { pausedUntil: UNTIL_RESUMED, pauseReason: GUARD_REASON })
const hostPaused = (id: string) =>
  makeMailbox(id, { pausedUntil: new Date('2026-01-07T13:00:00Z'), pauseReason: 'throttled' })

function explain(mailboxes: Mailbox[], extra: Partial<Parameters<typeof explainCampaign>[0]> = {}) {
  return explainCampaign({
    campaign: makeCampaign({ mailboxIds: mailboxes.map((m) => m.id) }),
    mailboxes,
    queue: { pending: 3, sending: 0, sent: 50, failed: 3, cancelled: 0, nextScheduledAt: T0 },
    counts: { campaign: 0, mailboxes: {} },
    due: [{ mailboxId: null, windowKey: '', count: 3 }],
    now: NOW,
    ...extra,
  })
}

describe('explain() and guards', () => {
  it('names a campaign a guard paused, with the figures, in place of not-running', () => {
    const trip = {
      guard: 'bounce-rate' as const,
      figures: { count: 3, handed: 50, rate: 0.06, limit: 0.05, windowDays: 7 },
      description: 'hard bounces 3 of 50 (6.0%) over 7 days, limit 5%',
    }
    const paused = explain([makeMailbox('mb-1')], {
      campaign: makeCampaign({ status: 'PAUSED', mailboxIds: ['mb-1'] }),
      guardTrip: trip,
    })
    expect(paused.reasons).toEqual([
      {
        code: 'guard',
        message:
          'campaign paused by a guard: hard bounces 3 of 50 (6.0%) over 7 days, limit 5% (call resumeCampaign)',
      },
    ])
    // Paused by the host: not-running, as before.
    const byHost = explain([makeMailbox('mb-1')], {
      campaign: makeCampaign({ status: 'PAUSED', mailboxIds: ['mb-1'] }),
    })
    expect(byHost.reasons.map((r) => r.code)).toEqual(['not-running'])
  })

  it('names mailboxes a guard paused, and the host-paused ones apart', () => {
    const onlyGuard = explain([guardPaused('mb-1')])
    expect(onlyGuard.sending).toBe(false)
    expect(onlyGuard.reasons).toEqual([
      {
        code: 'guard',
        message: `paused by a guard until resumed (call resumeMailbox): mb-1@acme.test (${GUARD_REASON})`,
      },
    ])
    const both = explain([guardPaused('mb-1'), hostPaused('mb-2')])
    expect(both.reasons.map((r) => r.code)).toEqual(['guard', 'mailbox-paused'])
    expect(both.reasons[1]).toMatchObject({
      message: 'the other mailboxes are paused (mb-2@acme.test: throttled)',
      until: new Date('2026-01-07T13:00:00Z'),
    })
    // One mailbox still sends: nothing holds the campaign back.
    expect(explain([guardPaused('mb-1'), makeMailbox('mb-2')]).sending).toBe(true)
  })

  it('names a guard-paused thread mailbox that due follow-ups wait for', () => {
    const explanation = explain([guardPaused('mb-1'), makeMailbox('mb-2')], {
      due: [{ mailboxId: 'mb-1', windowKey: '', count: 2 }],
    })
    expect(explanation.reasons).toEqual([
      {
        code: 'guard',
        message: `2 due emails wait for the mailbox of their thread, paused by a guard until resumed (call resumeMailbox): mb-1@acme.test (${GUARD_REASON})`,
      },
    ])
  })
})
