/**
 * The documented maximums of every public input. Each is far above what a real sender needs and
 * within what every store holds: Postgres `integer` columns (2³¹ − 1), MariaDB `INT` and
 * `DATETIME(3)` (up to 9999-12-31), SQLite, and the engine's own date arithmetic. A value inside
 * them is one every store accepts and the engine computes with; a value outside is refused when
 * it enters with an `invalid-input` error naming its field. README's "Accepted values" lists them.
 */

const DAY_MS = 86_400_000

export const INPUT_LIMITS = Object.freeze({
  /** `dailyEmailLimit` of a mailbox, and each `sentToday` count of an import. */
  dailyEmailLimit: 1_000_000,
  /** `maxEmailsPerDay` of a campaign. */
  maxEmailsPerDay: 1_000_000,
  /** `delayBetweenEmails`, in seconds: 30 days. */
  delayBetweenEmails: 30 * 86_400,
  /** `steps[i].delayDays`: ten years. */
  delayDays: 3650,
  /** Mailboxes one campaign rotates over. */
  mailboxesPerCampaign: 1_000,
  /** Steps in one campaign. */
  steps: 100,
  /** Custom variables declared by a campaign, and variables carried by one lead. */
  variables: 100,
  /** Characters of a variable's name (declared or carried by a lead). */
  variableNameLength: 100,
  /** Characters of a campaign name, a mailbox display name and a subject (they become headers). */
  nameLength: 500,
  /** Characters of a lead's `firstName`, `lastName`, `company`. */
  leadFieldLength: 500,
  /** Characters of a lead's variables, names and values together (MariaDB keeps them in 64 KB). */
  leadVariablesLength: 10_000,
  /** Characters of a step's `text` or `html` body: about 1 MB. */
  bodyLength: 1_000_000,
  /** Characters of a campaign's templates together, every subject and body of every step. */
  templatesLength: 2_100_000,
  /** `{{variable}}` uses in one template (so a rendered body stays a few MB at most). */
  variableUsesPerTemplate: 1_000,
  /**
   * Characters of a subject once rendered, lead values filled in: longer ones are cut (a header
   * line holds 998 characters, and MariaDB keeps a sent subject in 64 KB).
   */
  renderedSubjectLength: 998,
  /** Leads in one `addLeads`, `analyzeImport` or `importCampaign` call. */
  leadsPerCall: 100_000,
  /** Rows of one import's `sendLog`. */
  sendLogRows: 1_000_000,
  /** Dates in a campaign's or a mailbox's `skipDates`. */
  skipDates: 1_000,
  /** Sends in one `recordExternalSends` call. */
  sendsPerCall: 100_000,
  /** Characters of an id given to the API: `externalId`, a send-log row id, an external send id. */
  idLength: 200,
  /** Characters of a reason (`pauseMailbox`, `suppress`). */
  reasonLength: 1_000,
  /** Characters of an imported Message-ID (`<…@…>`). */
  messageIdLength: 250,
  /** Message-IDs in an imported thread (a thread is kept in 64 KB on MariaDB). */
  threadLength: 20,
  /**
   * Earliest and latest instants a date given to the API may hold (`sentAt` of an import or an
   * external send). The latest leaves room for the longest delays after it (a follow-up ten years
   * later still fits in every store).
   */
  earliestDate: '1970-01-01T00:00:00.000Z',
  latestDate: '9000-01-01T00:00:00.000Z',
  /** Latest `pauseMailbox` `until`: the value "until resumed" stands for. */
  latestPauseUntil: '9999-12-31T00:00:00.000Z',
  // createScheduler and createSmtpTransport options, in ms unless said otherwise.
  /** `concurrency`: sends in flight at once. */
  concurrency: 1_000,
  /** `maxSendsPerCampaignPerTick`. */
  maxSendsPerCampaignPerTick: 10_000,
  /** `lookahead`: one hour. */
  lookahead: 3_600_000,
  /**
   * `lease`, and `sendTimeout` of the SMTP transport: a week (a fast simulated clock, as in tests
   * and forecasts, needs leases of many simulated hours).
   */
  lease: 7 * DAY_MS,
  /** `interval` between ticks: one day (timers cannot wait longer than 24.8 days). */
  interval: DAY_MS,
  /** `retry.maxAttempts`. */
  retryAttempts: 100,
  /** `retry.baseDelayMs` and `retry.maxDelayMs`: 30 days. */
  retryDelay: 30 * DAY_MS,
  /** `pool.maxConnections` of the SMTP transport, per mailbox. */
  poolConnections: 100,
  /** `pool.maxMessages` of the SMTP transport, per connection. */
  poolMessages: 1_000_000,
  /** `pool.idleTimeout` of the SMTP transport: one hour. */
  poolIdleTimeout: 3_600_000,
})

export type InputLimits = typeof INPUT_LIMITS

/** The date bounds as milliseconds since the epoch. */
export const EARLIEST_MS = Date.parse(INPUT_LIMITS.earliestDate)
export const LATEST_MS = Date.parse(INPUT_LIMITS.latestDate)
export const LATEST_PAUSE_MS = Date.parse(INPUT_LIMITS.latestPauseUntil)
