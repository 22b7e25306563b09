-- A late capture's refund names the gateway of its transaction: two gateways may hand out the same
-- transaction id, and each capture must be refunded (once).
ALTER TABLE refunds ADD COLUMN pg_gateway text;
UPDATE refunds r SET pg_gateway = c.pg_gateway
FROM checkouts c
WHERE r.reason = 'LATE_CONFIRMATION' AND c.id = r.checkout_id;
DROP INDEX refunds_one_per_late_transaction;
CREATE UNIQUE INDEX refunds_one_per_late_transaction ON refunds (coalesce(pg_gateway, ''), pg_transaction_id)
    WHERE reason = 'LATE_CONFIRMATION';
