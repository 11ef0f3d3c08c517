/**
 * A/B variants at run time: per-variant counts and the probability of being the best
 * (`scheduler.variantStats`), and the `autoWinner` decision, persisted on the campaign as the
 * step's `winner` so it never flips back and every process reads the same one.
 *
 * When the decision is checked: by `variantStats()`, and by the tick, before it sends, for each
 * campaign it is about to run that has an undecided `autoWinner`, at most once per
 * {@link WINNER_CHECK_MS} of the clock per process (each check reads the campaign's queue and
 * leads, so not on every tick). A winner decided there is sent from that same tick on.
 */

import type { AutoWinner, Campaign, Lead, QueueItem, Step } from '../model/types.js'
import { AUTO_WINNER_DEFAULTS } from '../model/variants.js'
import { pickWinner, probabilityBest } from '../policy/winner.js'
import type { RunnableCampaign } from '../store.js'
import type { VariantState } from './explain.js'
import type { ResolvedOptions } from './options.js'

/** How often (clock time) the tick checks one campaign's undecided `autoWinner` steps, per process. */
export const WINNER_CHECK_MS = 10 * 60_000

export interface VariantStat {
  variantId: string
  /** Emails of this variant sent. */
  sent: number
  /** Of those, to leads now `replied` (by `markReplied`, or an inbox ingest ending in that status). */
  replied: number
  /** Emails of this variant failed with the lead marked `bounced`. */
  bounced: number
  /** `replied / sent`, 0 before any send. */
  replyRate: number
  /** Posterior probability that its reply rate is the highest of the step's (see policy/winner.ts). */
  probabilityBest: number
}

export interface StepVariantStats {
  step: number
  variants: VariantStat[]
  /** The rule, with its defaults, or null when the step has none. */
  autoWinner: Required<AutoWinner> | null
  /** The variant new leads get, once decided (or set by the host); null while the test runs. */
  winner: string | null
}

/**
 * Counts per step and variant from the campaign's items and leads. Items without a variant (sent
 * before the store kept one, or imported) are not counted. A reply counts for every variant the
 * lead was sent, in each step: the rate is "leads who replied after receiving this variant".
 */
export function computeVariantStats(
  campaign: Campaign,
  items: readonly QueueItem[],
  leads: readonly Lead[],
): StepVariantStats[] {
  const statusOf = new Map(leads.map((l) => [l.id, l.status]))
  const out: StepVariantStats[] = []
  campaign.steps.forEach((step, index) => {
    if (!step.variants?.length) return
    const counts = new Map(step.variants.map((v) => [v.id, { sent: 0, replied: 0, bounced: 0 }]))
    for (const item of items) {
      const count = item.step === index && item.variantId ? counts.get(item.variantId) : undefined
      if (!count) continue
      const status = statusOf.get(item.leadId)
      if (item.status === 'sent') {
        count.sent += 1
        if (status === 'replied') count.replied += 1
      } else if (item.status === 'failed' && status === 'bounced') count.bounced += 1
    }
    const arms = step.variants.map(
      (v) => counts.get(v.id) as { sent: number; replied: number; bounced: number },
    )
    const best = probabilityBest(arms, `${campaign.id}\u0000${index}`)
    out.push({
      step: index,
      variants: step.variants.map((v, i) => {
        const c = arms[i] as { sent: number; replied: number; bounced: number }
        return {
          variantId: v.id,
          ...c,
          replyRate: c.sent === 0 ? 0 : c.replied / c.sent,
          probabilityBest: best[i] ?? 0,
        }
      }),
      autoWinner: step.autoWinner ? ruleOf(step.autoWinner) : null,
      winner: step.winner ?? null,
    })
  })
  return out
}

function ruleOf(rule: AutoWinner): Required<AutoWinner> {
  return {
    metric: 'reply',
    minSends: rule.minSends ?? AUTO_WINNER_DEFAULTS.minSends,
    confidence: rule.confidence ?? AUTO_WINNER_DEFAULTS.confidence,
  }
}

/** The winners the stats call for: steps with an undecided `autoWinner` whose rule is met. */
export function decidedWinners(
  stats: readonly StepVariantStats[],
): Array<{ step: number; variant: VariantStat }> {
  const out: Array<{ step: number; variant: VariantStat }> = []
  for (const s of stats) {
    if (!s.autoWinner || s.winner !== null) continue
    const probabilities = s.variants.map((v) => v.probabilityBest)
    const index = pickWinner(s.variants, probabilities, s.autoWinner)
    const variant = index === null ? undefined : s.variants[index]
    if (variant) out.push({ step: s.step, variant })
  }
  return out
}

/** The campaign's A/B tests as `explain()` shows them (from its settings alone: no store call). */
export function variantStates(campaign: Campaign): VariantState[] {
  const out: VariantState[] = []
  campaign.steps.forEach((step, index) => {
    if (!step.variants?.length) return
    out.push({
      step: index,
      variantIds: step.variants.map((v) => v.id),
      autoWinner: step.autoWinner ? ruleOf(step.autoWinner) : null,
      winner: step.winner ?? null,
    })
  })
  return out
}

/** True when a step of the campaign still waits for its `autoWinner` decision. */
export function hasOpenTest(campaign: Campaign): boolean {
  return campaign.steps.some((s: Step) => s.autoWinner !== undefined && !s.winner)
}

export function createVariantStats(options: ResolvedOptions) {
  const { store, clock, logger } = options
  const lastCheck = new Map<string, number>()

  /**
   * Stats of a campaign, and its winners persisted when the rule is met: the campaign is read
   * again just before the write, and a step already decided (by another process) is left as it is.
   */
  async function statsAndDecide(
    campaign: Campaign,
  ): Promise<{ stats: StepVariantStats[]; updated: Campaign | null }> {
    const [items, leads] = await Promise.all([
      store.listQueueItems(campaign.id),
      store.listLeads(campaign.id),
    ])
    const stats = computeVariantStats(campaign, items, leads)
    const decided = decidedWinners(stats)
    if (decided.length === 0) return { stats, updated: null }
    const fresh = await store.getCampaign(campaign.id)
    if (!fresh) return { stats, updated: null }
    const steps = fresh.steps.map((s) => ({ ...s }))
    const made = decided.filter(({ step, variant }) => {
      const target = steps[step]
      if (!target || target.winner || !target.variants?.some((v) => v.id === variant.variantId)) return false
      target.winner = variant.variantId
      return true
    })
    if (made.length === 0) return { stats, updated: null }
    const updated = await store.updateCampaign(campaign.id, { steps }, clock.now())
    for (const { step, variant } of made) {
      const s = stats.find((x) => x.step === step)
      if (s) s.winner = variant.variantId
      options.emit({
        type: 'variant-winner',
        at: clock.now(),
        campaignId: campaign.id,
        step,
        variantId: variant.variantId,
        probabilityBest: variant.probabilityBest,
      })
      logger.info({ campaignId: campaign.id, step, variantId: variant.variantId }, 'variant winner')
    }
    return { stats, updated }
  }

  /** The tick's check: campaigns with an open test, each at most once per `WINNER_CHECK_MS`. */
  async function checkWinners(runnable: RunnableCampaign[]): Promise<void> {
    const now = clock.now().getTime()
    for (const entry of runnable) {
      const { campaign } = entry
      if (!hasOpenTest(campaign)) continue
      const last = lastCheck.get(campaign.id)
      if (last !== undefined && now - last < WINNER_CHECK_MS && now >= last) continue
      if (lastCheck.size > 10_000) lastCheck.clear()
      lastCheck.set(campaign.id, now)
      try {
        const { updated } = await statsAndDecide(campaign)
        if (updated) entry.campaign = updated
      } catch (err) {
        logger.warn({ err, campaignId: campaign.id }, 'could not check the variant winner')
      }
    }
  }

  return { statsAndDecide, checkWinners }
}
