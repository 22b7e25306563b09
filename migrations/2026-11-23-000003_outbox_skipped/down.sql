DROP INDEX outbox_dead;
UPDATE outbox SET status = 'DELIVERED' WHERE status = 'SKIPPED';
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD'));
