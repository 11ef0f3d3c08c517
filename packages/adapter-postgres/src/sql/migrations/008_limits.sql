-- mailcadence 008: limits that protect mailboxes (issue #14). Run by migrate() like 001: search_path
-- set to the target schema, inside a transaction, under the advisory lock. Additive: every existing
-- row reads with the defaults (no hourly limit, no ramp, provider unknown, no recipient-domain
-- limit, provider matching off), which is how it behaved before. Core validates the enumerations
-- (provider, provider_matching): no CHECK on them, so a value core adds later needs no constraint
-- change.

-- Mailbox settings (hourly_limit, ramp_up {start, step, minUtilization}, provider) and core's
-- warm-up progress (ramp_level, ramp_day_key), written through updateMailbox.
ALTER TABLE mailboxes ADD COLUMN hourly_limit integer CHECK (hourly_limit >= 0);
ALTER TABLE mailboxes ADD COLUMN ramp_up jsonb;
ALTER TABLE mailboxes ADD COLUMN ramp_level integer NOT NULL DEFAULT 0 CHECK (ramp_level >= 0);
ALTER TABLE mailboxes ADD COLUMN ramp_day_key text;
ALTER TABLE mailboxes ADD COLUMN provider text;

-- Campaign settings: recipient_domain_limit {perDay, scope, exemptFreeMail} and provider matching.
ALTER TABLE campaigns ADD COLUMN recipient_domain_limit jsonb;
ALTER TABLE campaigns ADD COLUMN provider_matching text NOT NULL DEFAULT 'off';

-- Named counters (CounterStore): core picks every key and limit, claimCounters counts atomically.
-- A row lives until its expires_at (the latest any claim gave it); claimCounters deletes expired
-- rows a bounded batch at a time, through the index.
CREATE TABLE counters (
  key varchar(200) PRIMARY KEY,
  count integer NOT NULL CHECK (count >= 0),
  expires_at timestamptz NOT NULL
);
CREATE INDEX counters_expires_at ON counters (expires_at);
