-- mailcadence (@mailcadence/adapter-sqlite) 004: limits that protect mailboxes. Additive: every
-- existing mailbox reads with no hourly limit, no ramp, no provider and no warm-up progress, every
-- existing campaign with no recipient-domain limit and provider matching 'off', which is how they
-- behaved before. The provider columns have no CHECK: core validates them, and SQLite cannot widen
-- a CHECK later without rebuilding the table, should core add a provider or a matching mode.

-- Most sends per clock hour of the mailbox's zone; NULL: no hourly cap.
ALTER TABLE mailcadence_mailboxes ADD COLUMN hourly_limit INTEGER CHECK (hourly_limit >= 0);
-- Warm-up ramp as JSON {"start","step","minUtilization"}; NULL: none.
ALTER TABLE mailcadence_mailboxes ADD COLUMN ramp_up TEXT;
-- Warm-up progress, kept by core: well-used earlier local days, as of the local day ramp_day_key.
ALTER TABLE mailcadence_mailboxes ADD COLUMN ramp_level INTEGER NOT NULL DEFAULT 0 CHECK (ramp_level >= 0);
ALTER TABLE mailcadence_mailboxes ADD COLUMN ramp_day_key TEXT;
-- 'google', 'microsoft', 'yahoo' or 'other', from the domain's MX record; NULL until core looked.
ALTER TABLE mailcadence_mailboxes ADD COLUMN provider TEXT;

-- First emails per recipient domain per campaign day as JSON {"perDay","scope","exemptFreeMail"};
-- NULL: no limit.
ALTER TABLE mailcadence_campaigns ADD COLUMN recipient_domain_limit TEXT;
-- 'off', 'prefer' or 'strict'.
ALTER TABLE mailcadence_campaigns ADD COLUMN provider_matching TEXT NOT NULL DEFAULT 'off';

-- Named counters (claimCounters): core chooses every key (at most 200 characters) and limit, the
-- store only counts. expires_at (epoch ms) is the latest expiry a key was claimed with; after it core
-- neither reads nor claims the key, and claimCounters deletes expired rows in small batches.
CREATE TABLE mailcadence_counters (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL CHECK (count >= 0),
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX mailcadence_counters_expires_at ON mailcadence_counters (expires_at);
