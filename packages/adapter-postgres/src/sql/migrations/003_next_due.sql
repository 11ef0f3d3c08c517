-- mailcadence 003: when each campaign can next send, at the earliest, so that a tick finds the due
-- campaigns through one index instead of probing the queue once per running campaign (an idle tick
-- over 10,000 campaigns read 10,000 index entries; now it reads none). Run by migrate() like 001:
-- search_path set to the target schema, inside a transaction, under the advisory lock.
-- Additive: a store of the previous version keeps working on a schema migrated to this one.

-- A lower bound: no pending item of the campaign is scheduled before next_due_at; NULL only when it
-- has no pending item. It may lag behind (an item reserved, cancelled or sent leaves it earlier than
-- the queue's earliest), never run ahead: the triggers below lower it whenever an item becomes
-- pending, in the statement that does so, and listDueCampaigns raises it to the queue's earliest
-- when it finds it stale, under the campaign's row lock.
ALTER TABLE campaigns ADD COLUMN next_due_at timestamptz;

UPDATE campaigns c SET next_due_at = (
  SELECT min(q.scheduled_at) FROM queue_items q WHERE q.campaign_id = c.id AND q.status = 'pending'
);

-- Set by core through deferCampaigns: the campaign cannot send before this instant whatever its
-- queue holds (its window is closed until then). updateCampaign clears it (the window may change).
ALTER TABLE campaigns ADD COLUMN deferred_until timestamptz;

-- What listDueCampaigns reads: when a campaign with pending items can next send, at the earliest,
-- and the campaigns with none. A stored column rather than an index on the expression: the planner
-- keeps statistics of a column, not of an expression indexed under a WHERE, and without them it
-- would guess that a third of the campaigns are due and scan them all.
ALTER TABLE campaigns ADD COLUMN can_send_from timestamptz
  GENERATED ALWAYS AS (GREATEST(next_due_at, deferred_until)) STORED;
CREATE INDEX campaigns_can_send_from ON campaigns (can_send_from) WHERE status = 'IN_PROGRESS';
CREATE INDEX campaigns_nothing_pending ON campaigns (id) WHERE status = 'IN_PROGRESS' AND next_due_at IS NULL;

-- Lowers next_due_at of the campaigns whose items the statement left pending. It writes the row even
-- when the value stays the same: the row lock it takes is what orders it after a concurrent raise
-- (which locks the row, then reads the queue), so a raise never misses an item that is not yet
-- committed. One UPDATE per statement and campaign, not per item. SET search_path pins the schema:
-- the trigger runs under the search_path of whoever writes the queue.
CREATE FUNCTION lower_next_due() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE campaigns c SET next_due_at = LEAST(c.next_due_at, p.earliest)
  FROM (
    SELECT n.campaign_id, min(n.scheduled_at) AS earliest FROM new_items n
    WHERE n.status = 'pending' GROUP BY n.campaign_id
  ) p
  WHERE c.id = p.campaign_id;
  RETURN NULL;
END
$$;

-- A trigger with transition tables takes one event: one for inserts, one for updates.
CREATE TRIGGER queue_items_pending_inserted AFTER INSERT ON queue_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION lower_next_due();
CREATE TRIGGER queue_items_pending_updated AFTER UPDATE ON queue_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION lower_next_due();
