/**
 * What a migration from another sender takes and reports: a campaign in progress elsewhere (its
 * settings in the seed's vocabulary, its leads with how far each got, its send log), what the
 * import would do or did, and the legacy sends a comparison or a rollback works with.
 */
import type { CampaignInput, LeadInput, LeadStatus } from '../model/types.js'

/** A campaign in progress in another system, as `analyzeImport` and `importCampaign` take it. */
export interface ImportInput {
  /**
   * The campaign's id in the other system. The campaign is created once per `externalId`:
   * importing it again (a switch after a rollback) adds the leads that are not there yet, counts
   * only sends not counted, and moves each lead already here forward to the other system's
   * progress where that is ahead: a lead it stopped (`replied`, `bounced`, `suppressed`, …) is
   * stopped here with its pending step cancelled; steps it sent are recorded as sent and the lead
   * goes on from the last of them (next step due `delayDays` after it, in the same thread, from
   * the thread's mailbox). Never back: a lead that got further here, or stopped here, is left as
   * it is. See `ImportReport.advanced`.
   */
  externalId: string
  /**
   * Its settings (`startHour`, `allowedDays`, `delayBetweenEmails`, `maxEmailsPerDay`, …) and
   * steps, over mailcadence mailboxes (`mailboxIds`: create them first, one per sending address).
   */
  campaign: CampaignInput
  /** Its leads, each with how far the other system got. */
  leads: readonly ImportLeadInput[]
  /**
   * The other system's send log for this campaign (the seed's `SendLog`: `toEmail`, `subject`,
   * `createdAt`). It fills in what a lead's progress lacks, and today's rows count toward today's
   * limits here. Default: none.
   */
  sendLog?: readonly LegacySend[]
  /**
   * Sends each mailbox made today in the other system, over all its campaigns (the seed's
   * `Mailbox.currentDailySent`, holding the legacy sender's sends only), by mailbox address, so
   * that the mailbox's daily limit holds across both systems on the day of the switch. Give it on
   * a mailbox's first switch, before `recordExternalSends` counts the legacy sends live: sends it
   * covers that are later recorded by id are counted twice (fewer sends that day, never more).
   * Default: today's rows of `sendLog`.
   */
  sentToday?: Readonly<Record<string, number>>
  /**
   * Start the campaign (`IN_PROGRESS`) once imported. Default false: start it after the other
   * system has stopped sending it.
   */
  start?: boolean
}

export interface ImportLeadInput extends LeadInput {
  /** Where the lead stands (`replied`, `bounced`, … stop its sequence). Default `active`. */
  status?: LeadStatus
  /** The last step the other system sent to this lead; omitted when it sent nothing yet. */
  progress?: LeadProgress
}

/** The last email the other system sent to a lead. */
export interface LeadProgress {
  /** 0-based index of the step. */
  step: number
  sentAt: Date
  /** Address of the mailbox it left from (one of the campaign's): follow-ups leave from it too. */
  mailbox: string
  /** Its Message-ID (`<…>`): follow-ups reply to it, in the same thread. */
  messageId: string
  /** The thread's Message-IDs, oldest first, ending with `messageId`. Default `[messageId]`. */
  thread?: readonly string[]
  /** Subject the thread started with (follow-ups use `Re: …`). Default: step 0's subject. */
  threadSubject?: string
}

/** One row of another system's send log. */
export interface LegacySend {
  /** The row's id in that system: a row is counted once, however often it is imported. */
  id: string
  /** The recipient (the seed's `toEmail`). */
  to: string
  subject?: string
  /** When it was sent (the seed's `createdAt`). */
  sentAt: Date
  /** Address of the mailbox it left from, when known. */
  mailbox?: string
  /** 0-based step, when known; otherwise a lead's rows are its steps 0, 1, … in time order. */
  step?: number
}

export type ImportIssueCode =
  /** The lead cannot be imported: a bad address or a missing template variable. */
  | 'invalid-lead'
  /** The address is on the suppression list here (unsubscribed, bounced): left out. */
  | 'suppressed'
  /** The same address appears twice in the input; the later one is left out. */
  | 'duplicate-lead'
  /** A lead's progress names a step the campaign does not have. */
  | 'step-out-of-range'
  /** A lead was mailed from a mailbox that is not one of the campaign's: its thread cannot go on. */
  | 'unknown-mailbox'
  /** A lead's progress says a step was sent but the send log has no row for it (trusted as sent). */
  | 'progress-without-log'
  /** The send log shows a later step than the lead's progress (the log wins: never send twice). */
  | 'log-ahead-of-progress'
  /** A send-log row whose recipient is not among the leads (counted toward today's limits). */
  | 'log-without-lead'
  /**
   * A lead to move forward changed here while importing (a send in flight, a reply): left as it
   * is; import again once the campaign is paused.
   */
  | 'advance-conflict'
  /** A mailbox has sent more today than its `dailyEmailLimit`: it sends nothing more today. */
  | 'mailbox-over-limit'
  /** The campaign has sent more today than `maxEmailsPerDay`: it sends nothing more today. */
  | 'campaign-over-limit'

export interface ImportIssue {
  code: ImportIssueCode
  /** `error`: the lead is left out. `warning`: imported as the message says. */
  severity: 'error' | 'warning'
  message: string
  email?: string
  step?: number
  /** The send-log row, for log issues. */
  logId?: string
  /** The mailbox address, for mailbox issues. */
  mailbox?: string
}

/** What an import would do (`analyzeImport`) or did (`importCampaign`). */
export interface ImportReport {
  externalId: string
  /** The campaign here: null when `analyzeImport` finds none yet. */
  campaignId: string | null
  leads: {
    /** Leads in the input. */
    total: number
    /** Brought in by this import (or that would be). */
    imported: number
    /** Already here from an earlier import, and not behind the other system: left as they are. */
    existing: number
    /** Already here, and behind the other system: moved forward (or that would be; see `advanced`). */
    advanced: number
    /** Left out: see `issues`. */
    refused: number
    /** Of the imported, those with a step due now, waiting for a later time, and with none left. */
    due: number
    waiting: number
    finished: number
  }
  /**
   * Today's sends in the other system that today's counts here include (for the campaign, and per
   * mailbox address), so limits hold across both systems on the day of the switch.
   */
  counted: { campaign: number; mailboxes: Record<string, number> }
  /** Pacing goes on from the other system's last send: the campaign's first slot here. */
  nextSlotAt: Date | null
  /** The leads moved forward to the other system's progress, one entry each. */
  advanced: AdvancedLead[]
  issues: ImportIssue[]
}

/** A lead already here that a re-import moved forward (see `ImportInput.externalId`). */
export interface AdvancedLead {
  email: string
  /** Where it stood here before. */
  from: { status: LeadStatus; lastSentStep: number | null }
  /** Its status now (`replied`, … or still `active`, or `completed` when no step is left). */
  status: LeadStatus
  /** Steps the other system sent that are now recorded as sent here. */
  sentSteps: number[]
  /** The step due next here and when, or null when the sequence is over. */
  next: { step: number; dueAt: Date } | null
}

/** What `importCampaign` did. */
export interface ImportResult extends ImportReport {
  campaignId: string
  /**
   * Day counts this import added for the other system's sends (one per send for its mailbox, one
   * for the campaign): 0 when importing again.
   */
  recordedSends: number
}

/** Where one lead stands, for the legacy system to carry on after a rollback (`exportProgress`). */
export interface ExportedLead extends LeadInput {
  email: string
  status: LeadStatus
  /** The last step sent, when, from which mailbox, with which Message-ID; absent if none was. */
  progress?: Required<LeadProgress>
  /** The step due next and when, if the sequence goes on. */
  next: { step: number; dueAt: Date } | null
}

export interface CampaignProgress {
  campaignId: string
  externalId: string | null
  exportedAt: Date
  leads: ExportedLead[]
}
