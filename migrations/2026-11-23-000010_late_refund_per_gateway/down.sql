DROP INDEX refunds_one_per_late_transaction;
CREATE UNIQUE INDEX refunds_one_per_late_transaction ON refunds (pg_transaction_id)
    WHERE reason = 'LATE_CONFIRMATION';
ALTER TABLE refunds DROP COLUMN pg_gateway;
