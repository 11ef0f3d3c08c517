/**
 * Step variants (A/B tests): which variant a lead gets, and what a step sends for it. Pure: the
 * choice is a weighted hash of campaign, lead and step, so every process makes the same one, and
 * the engine keeps it on the queue item once made (a retry never asks again).
 */

import type { Step, StepVariant } from '../model/types.js'
import { hashUnit } from './spintax.js'

/** What a step sends for one variant: the variant's subject and bodies where given, else the step's. */
export interface StepContent {
  subject?: string
  text?: string
  html?: string
}

/** The step's content for `variantId` (the step's own for null or an id it no longer has). */
export function stepContent(step: Step, variantId: string | null): StepContent {
  const variant = variantId === null ? undefined : step.variants?.find((v) => v.id === variantId)
  const content: StepContent = {}
  const subject = variant?.subject ?? step.subject
  const text = variant?.text ?? step.text
  const html = variant?.html ?? step.html
  if (subject !== undefined) content.subject = subject
  if (text !== undefined) content.text = text
  if (html !== undefined) content.html = html
  return content
}

/**
 * The variant of a step for a lead by weight alone: `hashUnit(campaign, lead, step)` falls in one
 * variant's share of the summed weights. Null for a step without variants.
 */
export function weightedVariant(
  variants: readonly StepVariant[] | undefined,
  campaignId: string,
  leadKey: string,
  step: number,
): string | null {
  if (!variants || variants.length === 0) return null
  const total = variants.reduce((sum, v) => sum + (v.weight ?? 1), 0)
  let point = hashUnit([campaignId, leadKey, String(step), 'variant'].join('\u0000')) * total
  for (const variant of variants) {
    point -= variant.weight ?? 1
    if (point < 0) return variant.id
  }
  return (variants.at(-1) as StepVariant).id
}

/**
 * The variant a lead's email of a step sends: the one already fixed on its queue item (a retry),
 * else the step's `winner` once decided, else the weighted choice.
 */
export function variantFor(
  step: Step | undefined,
  fixed: string | null,
  campaignId: string,
  leadKey: string,
  stepIndex: number,
): string | null {
  if (!step?.variants?.length) return null
  if (fixed !== null) return fixed
  if (step.winner && step.variants.some((v) => v.id === step.winner)) return step.winner
  return weightedVariant(step.variants, campaignId, leadKey, stepIndex)
}
