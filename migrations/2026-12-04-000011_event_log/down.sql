DROP INDEX outbox_partner_events;
ALTER TABLE outbox DROP COLUMN retry_from;
