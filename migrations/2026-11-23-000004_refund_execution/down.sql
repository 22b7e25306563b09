DROP INDEX refunds_open;
CREATE INDEX refunds_manual_queue ON refunds (created_at) WHERE status IN ('PENDING', 'MANUAL_QUEUE');
UPDATE refunds SET status = 'PENDING' WHERE status = 'REFUNDING';
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('SCHEDULED', 'PENDING', 'DONE', 'MANUAL_QUEUE'));
