-- A callback with nowhere to go (the partner has no webhook URL) is recorded as skipped, not delivered.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD', 'SKIPPED'));
CREATE INDEX outbox_dead ON outbox (created_at) WHERE status = 'DEAD';
