-- The reconciliation job asks the PG about the least recently checked transactions first, so a busy
-- day's abandoned checkouts cannot starve the rest of its bounded batch.
ALTER TABLE pg_transactions ADD COLUMN reconciled_at timestamptz;
