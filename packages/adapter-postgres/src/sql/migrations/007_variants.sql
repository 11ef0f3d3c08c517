-- mailcadence 007: step variants (issue #16). Run by migrate() like 001: search_path set to the
-- target schema, inside a transaction, under the advisory lock. Additive: the new column is null
-- for every existing item (no variant), which is how they behaved before.

-- The step variant core chose for the item on its first reservation, written by the completion
-- (only while null: a retry keeps the first choice). Read back with the item by core on a retry
-- and by scheduler.variantStats.
ALTER TABLE queue_items ADD COLUMN variant_id text;
