/** Shared set-ups: campaigns that may send at any hour, without pacing, on roomy mailboxes. */
import type { CampaignInput, MailboxInput, Scheduler } from '@mailcadence/core'

export function openCampaign(mailboxIds: string[], name: string): CampaignInput {
  return {
    name,
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: 0,
    jitter: 0,
    maxEmailsPerDay: 1_000_000, // INPUT_LIMITS.maxEmailsPerDay
    mailboxIds,
    steps: [{ subject: 'Hello {{firstName|there}}', text: 'A short note.' }],
  }
}

export async function createMailboxes(
  scheduler: Scheduler,
  count: number,
  extra: Partial<MailboxInput> = {},
): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    ids.push(
      (await scheduler.createMailbox({ email: `rep${i}@acme.test`, dailyEmailLimit: 1_000_000, ...extra }))
        .id,
    )
  }
  return ids
}

export function leads(count: number, prefix: string) {
  return Array.from({ length: count }, (_, i) => ({ email: `${prefix}${i}@example.com`, firstName: `N${i}` }))
}

/** Adds leads in chunks, so a store with a per-statement parameter limit is not overrun. */
export async function addLeadsChunked(
  scheduler: Scheduler,
  campaignId: string,
  all: ReturnType<typeof leads>,
) {
  for (let i = 0; i < all.length; i += 5_000) await scheduler.addLeads(campaignId, all.slice(i, i + 5_000))
}

export const noopTransport = { send: async () => undefined }
