-- A PG confirmation for a checkout that is no longer open (it failed, expired, or another transaction
-- paid it) is money captured without a trade (SPEC §7 point 5): it is refunded in full. Such a refund
-- names its checkout and PG transaction instead of a trade; one per transaction.
ALTER TABLE refunds ALTER COLUMN trade_id DROP NOT NULL;
ALTER TABLE refunds ADD COLUMN checkout_id uuid REFERENCES checkouts (id);
ALTER TABLE refunds ADD COLUMN pg_transaction_id text;
ALTER TABLE refunds ADD COLUMN reason text NOT NULL DEFAULT 'TRADE'
    CHECK (reason IN ('TRADE', 'LATE_CONFIRMATION'));
ALTER TABLE refunds ADD CONSTRAINT refunds_names_what_it_refunds CHECK (
    (reason = 'TRADE' AND trade_id IS NOT NULL)
    OR (reason = 'LATE_CONFIRMATION' AND trade_id IS NULL AND checkout_id IS NOT NULL AND pg_transaction_id IS NOT NULL)
);
CREATE UNIQUE INDEX refunds_one_per_late_transaction ON refunds (pg_transaction_id)
    WHERE reason = 'LATE_CONFIRMATION';

-- The browser return and the PG callback find their checkout by any transaction started for it.
CREATE INDEX pg_transactions_by_transaction ON pg_transactions (transaction_id);
