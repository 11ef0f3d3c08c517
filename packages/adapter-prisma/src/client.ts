/**
 * The part of a Prisma Client the store uses, typed structurally: any client generated from a
 * schema that includes `mailcadence.prisma` fits, whatever else the host's schema holds, whatever
 * generator output or extensions it uses, without this package importing the host's generated code.
 */

/**
 * A model delegate of the host's client (`prisma.mcCampaign`, …), as this package requires it: the
 * methods the store calls. Their parameters are typed `never` so that every generated signature
 * fits (Prisma's are generic, and differ by provider: no `skipDuplicates` on SQLite, for one);
 * Prisma validates the arguments at run time, and the store's own calls are typed by `ModelCalls`.
 */
export interface PrismaModelDelegate {
  findUnique(args: never): PromiseLike<unknown>
  findFirst(args: never): PromiseLike<unknown>
  findMany(args: never): PromiseLike<unknown>
  create(args: never): PromiseLike<unknown>
  createMany(args: never): PromiseLike<unknown>
  updateMany(args: never): PromiseLike<unknown>
  count(args: never): PromiseLike<unknown>
  groupBy(args: never): PromiseLike<unknown>
  deleteMany(args: never): PromiseLike<unknown>
}

/** The models of `mailcadence.prisma`, as delegates of a client or of a transaction. */
export interface MailcadenceModels {
  mcMailbox: PrismaModelDelegate
  mcCampaign: PrismaModelDelegate
  mcLead: PrismaModelDelegate
  mcQueueItem: PrismaModelDelegate
  mcSendLog: PrismaModelDelegate
  mcCampaignDay: PrismaModelDelegate
  mcMailboxDay: PrismaModelDelegate
  mcSuppression: PrismaModelDelegate
  mcExternalSend: PrismaModelDelegate
  mcInboundMessage: PrismaModelDelegate
  mcInboxCursor: PrismaModelDelegate
  mcCounter: PrismaModelDelegate
}

/** Options of an interactive transaction, as Prisma takes them. */
export interface PrismaTransactionOptions {
  maxWait?: number
  timeout?: number
  isolationLevel?: 'ReadCommitted' | 'Serializable'
}

/**
 * A Prisma Client (Prisma 7, any driver adapter) whose schema includes the models of
 * `mailcadence.prisma`. Pass your own `PrismaClient` instance: it fits this type as it is.
 */
export interface PrismaClientLike extends MailcadenceModels {
  $transaction<R>(fn: (tx: MailcadenceModels) => Promise<R>, options?: PrismaTransactionOptions): Promise<R>
  /** Used only to detect the database when the client does not tell its provider. */
  $queryRawUnsafe?(query: string, ...values: unknown[]): PromiseLike<unknown>
}

/** How the store calls a delegate (internal): arguments as Prisma takes them, results read as rows. */
export interface ModelCalls {
  findUnique(args: object): PromiseLike<unknown>
  findFirst(args: object): PromiseLike<unknown>
  findMany(args: object): PromiseLike<unknown>
  create(args: object): PromiseLike<unknown>
  createMany(args: object): PromiseLike<{ count: number }>
  updateMany(args: object): PromiseLike<{ count: number }>
  count(args: object): PromiseLike<unknown>
  groupBy(args: object): PromiseLike<unknown>
  deleteMany(args: object): PromiseLike<{ count: number }>
}

/** The models as the store calls them (internal). */
export type Models = { [K in keyof MailcadenceModels]: ModelCalls }

/**
 * Whether the client's generated data model is known and lacks `model.field`: a client generated
 * from an older mailcadence.prisma. Generated clients carry their data model (`_runtimeDataModel`,
 * as `_activeProvider` carries the provider); a client that hides it (wrapped, extended) is not
 * judged here.
 */
export function lacksField(prisma: object, model: string, field: string): boolean {
  const dataModel = (prisma as { _runtimeDataModel?: { models?: Record<string, { fields?: unknown }> } })
    ._runtimeDataModel
  const fields = dataModel?.models?.[model]?.fields
  if (!Array.isArray(fields)) return false
  return !fields.some((f: { name?: unknown }) => f?.name === field)
}

/** The one place where the host's delegates are seen as `ModelCalls`. */
export function asModels(client: MailcadenceModels): Models {
  return client as unknown as Models
}

// -- rows, as the delegates return them ------------------------------------------------------------

export interface MailboxRow {
  id: bigint
  email: string
  name: string | null
  dailyEmailLimit: number
  timezone: string
  pausedUntil: Date | null
  pauseReason: string | null
  /** JSON array of local dates. */
  skipDates: string
  hourlyLimit: number | null
  /** JSON `RampUp`, or null. */
  rampUp: string | null
  rampLevel: number
  rampDayKey: string | null
  provider: string | null
  createdAt: Date
  updatedAt: Date
}

export interface CampaignRow {
  id: bigint
  name: string
  status: string
  timezone: string
  startHour: number
  startMinute: number
  endHour: number
  endMinute: number
  allowedDays: string
  delayBetweenEmails: number
  jitter: number
  maxEmailsPerDay: number
  mailboxIds: string
  steps: string
  variables: string
  nextSlotAt: Date | null
  lastMailboxId: bigint | null
  externalId: string | null
  settingsVersion: number
  windowTimezone: string
  /** JSON array of local dates. */
  skipDates: string
  stopOnReply: string
  /** JSON `RecipientDomainLimit`, or null. */
  recipientDomainLimit: string | null
  providerMatching: string
  createdAt: Date
  updatedAt: Date
}

export interface LeadRow {
  id: bigint
  campaignId: bigint
  email: string
  emailKey: string
  firstName: string | null
  lastName: string | null
  company: string | null
  variables: string
  status: string
  timezone: string | null
  country: string | null
  windowKey: string
  createdAt: Date
  updatedAt: Date
}

export interface ItemRow {
  id: bigint
  campaignId: bigint
  leadId: bigint
  step: number
  status: string
  scheduledAt: Date
  attempts: number
  mailboxId: bigint | null
  references: string
  messageId: string | null
  threadSubject: string | null
  leaseToken: string | null
  leaseUntil: Date | null
  lastError: string | null
  sentAt: Date | null
  resCampaignDayKey: string | null
  resMailboxDayKey: string | null
  windowKey: string
  variantId: string | null
  createdAt: Date
  updatedAt: Date
}

export interface SendLogRow {
  campaignId: bigint
  leadId: bigint
  step: number
  mailboxId: bigint
  messageId: string
  to: string
  subject: string
  sentAt: Date
}

export interface DayRow {
  dayKey: string
  sent: number
}

export interface InboundRow {
  messageId: string
  kind: string
  campaignId: bigint | null
  leadId: bigint | null
  processedAt: Date
}

export interface CounterRow {
  key: string
  count: number
  expiresAt: Date
}

export interface InboxCursorRow {
  uidValidity: string
  lastUid: bigint
}
