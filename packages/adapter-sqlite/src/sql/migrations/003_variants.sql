-- mailcadence (@mailcadence/adapter-sqlite) 003: step variants. Additive: the new column is null for
-- every existing item (no variant), which is how they behaved before.

-- The step variant core chose for the item on its first reservation, written by the completion
-- (only while null: a retry keeps the first choice).
ALTER TABLE mailcadence_queue_items ADD COLUMN variant_id TEXT;
