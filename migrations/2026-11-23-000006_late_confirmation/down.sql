DROP INDEX pg_transactions_by_transaction;
DROP INDEX refunds_one_per_late_transaction;
DELETE FROM refunds WHERE reason = 'LATE_CONFIRMATION';
ALTER TABLE refunds DROP CONSTRAINT refunds_names_what_it_refunds;
ALTER TABLE refunds DROP COLUMN reason;
ALTER TABLE refunds DROP COLUMN pg_transaction_id;
ALTER TABLE refunds DROP COLUMN checkout_id;
ALTER TABLE refunds ALTER COLUMN trade_id SET NOT NULL;
