/** The memory store's inbox methods (`InboxStore`): sends by Message-ID, inbound records, cursors. */
import type { InboxStore, QueueItem, SentMessage } from '../index.js'
import { copyItem, copyLead, copySendLogEntry } from './copy.js'
import { cancelLeadPending, stopActiveLead } from './items.js'
import type { ItemRecord, State } from './state.js'

export type InboxMethods = InboxStore

/** Where a cursor is kept: NUL cannot occur in a mailbox id or a folder name handed to the store. */
function cursorKey(mailboxId: string, folder: string): string {
  return `${mailboxId}\0${folder}`
}

export function inboxMethods(state: State): InboxMethods {
  return {
    async findSentByMessageIds(messageIds) {
      const found: SentMessage[] = []
      for (const id of new Set(messageIds)) {
        for (const item of state.sentByMessageId.get(id) ?? []) {
          found.push({ send: copySendLogEntry(item), lead: copyLead(item.lead) })
        }
      }
      return found
    },

    async getInbound(messageId) {
      const record = state.inbound.get(messageId)
      return record === undefined ? null : { ...record, processedAt: new Date(record.processedAt) }
    },

    async recordInbound(record, now) {
      if (state.inbound.has(record.messageId)) return false
      state.inbound.set(record.messageId, { ...record, processedAt: new Date(now.getTime()) })
      return true
    },

    async postponeLead(campaignId, emailKey, until, now) {
      const cs = state.campaigns.get(campaignId)
      const lead = cs?.leads.get(emailKey)
      if (cs === undefined || lead === undefined) return null
      let next: ItemRecord | undefined
      for (const item of lead.items) {
        if (item.status === 'pending' && (next === undefined || item.step < next.step)) next = item
      }
      if (next === undefined) return null
      const untilMs = until.getTime()
      if (untilMs > next.scheduledAt) {
        // The heaps order by `scheduledAt`: take the item out before changing it, then put it back.
        cs.pending.heapOf(next).remove(next)
        next.scheduledAt = untilMs
        next.updatedAt = now.getTime()
        cs.pending.add(next)
      }
      return copyItem(next) satisfies QueueItem
    },

    async stopLeadsOfDomain(campaignId, domain, status, reason, now) {
      const cs = state.campaigns.get(campaignId)
      if (cs === undefined) return { leads: [], cancelled: 0 }
      const suffix = `@${domain}`
      const nowMs = now.getTime()
      const stopped = []
      let cancelled = 0
      for (const lead of cs.leads.values()) {
        if (!lead.emailKey.endsWith(suffix) || !stopActiveLead(lead, status, nowMs)) continue
        cancelled += cancelLeadPending(state, cs, lead, reason, nowMs)
        stopped.push(copyLead(lead))
      }
      return { leads: stopped, cancelled }
    },

    async getInboxCursor(mailboxId, folder) {
      const cursor = state.inboxCursors.get(cursorKey(mailboxId, folder))
      return cursor === undefined ? null : { ...cursor }
    },

    async saveInboxCursor(mailboxId, folder, cursor) {
      state.inboxCursors.set(cursorKey(mailboxId, folder), {
        uidValidity: cursor.uidValidity,
        lastUid: cursor.lastUid,
      })
    },
  }
}
