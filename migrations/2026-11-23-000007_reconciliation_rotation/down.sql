ALTER TABLE pg_transactions DROP COLUMN reconciled_at;
