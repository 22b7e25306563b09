-- Refunds are executed by a job through the PG: REFUNDING while the PG is being asked (a row left there
-- by a crash is for an operator to check), DONE when the PG refunded, MANUAL_QUEUE when it cannot.
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('SCHEDULED', 'PENDING', 'REFUNDING', 'DONE', 'MANUAL_QUEUE'));
DROP INDEX refunds_manual_queue;
CREATE INDEX refunds_open ON refunds (created_at) WHERE status IN ('PENDING', 'REFUNDING', 'MANUAL_QUEUE');
