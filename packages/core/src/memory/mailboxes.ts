/** The memory store's mailbox methods. */
import type { Mailbox, Store } from '../index.js'
import { copyDate, copyMailbox } from './copy.js'
import { nextId, type State } from './state.js'

export type MailboxMethods = Pick<Store, 'createMailbox' | 'updateMailbox' | 'getMailboxes'>

export function mailboxMethods(state: State): MailboxMethods {
  return {
    async createMailbox(input, now) {
      const mailbox: Mailbox = {
        id: nextId(state, 'mailbox'),
        email: input.email,
        name: input.name,
        dailyEmailLimit: input.dailyEmailLimit,
        // Stores written before these existed may hand a mailbox without them: the defaults.
        hourlyLimit: input.hourlyLimit ?? null,
        rampUp: input.rampUp ? { ...input.rampUp } : null,
        rampLevel: 0,
        rampDayKey: null,
        provider: input.provider ?? null,
        timezone: input.timezone,
        skipDates: [...input.skipDates],
        pausedUntil: null,
        pauseReason: null,
        createdAt: copyDate(now),
        updatedAt: copyDate(now),
      }
      state.mailboxes.set(mailbox.id, mailbox)
      return copyMailbox(mailbox)
    },

    async updateMailbox(id, patch, now) {
      const m = state.mailboxes.get(id)
      if (m === undefined) return null
      if (patch.email !== undefined) m.email = patch.email
      if (patch.name !== undefined) m.name = patch.name
      if (patch.dailyEmailLimit !== undefined) m.dailyEmailLimit = patch.dailyEmailLimit
      if (patch.timezone !== undefined) m.timezone = patch.timezone
      if (patch.hourlyLimit !== undefined) m.hourlyLimit = patch.hourlyLimit
      if (patch.rampUp !== undefined) m.rampUp = patch.rampUp === null ? null : { ...patch.rampUp }
      if (patch.rampLevel !== undefined) m.rampLevel = patch.rampLevel
      if (patch.rampDayKey !== undefined) m.rampDayKey = patch.rampDayKey
      if (patch.provider !== undefined) m.provider = patch.provider
      if (patch.skipDates !== undefined) m.skipDates = [...patch.skipDates]
      if (patch.pausedUntil !== undefined) m.pausedUntil = copyDate(patch.pausedUntil)
      if (patch.pauseReason !== undefined) m.pauseReason = patch.pauseReason
      m.updatedAt = copyDate(now)
      return copyMailbox(m)
    },

    async getMailboxes(ids) {
      const out: Mailbox[] = []
      for (const id of new Set(ids)) {
        const m = state.mailboxes.get(id)
        if (m !== undefined) out.push(copyMailbox(m))
      }
      return out
    },
  }
}
