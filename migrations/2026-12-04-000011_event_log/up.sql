-- The events API (SPEC §18) lists a partner's callbacks newest first and can send one again.
-- A replay or redelivery restarts the 24-hour retry horizon from `retry_from` and keeps the event's
-- `created_at` (NULL: the horizon counts from `created_at`).
ALTER TABLE outbox ADD COLUMN retry_from timestamptz;
CREATE INDEX outbox_partner_events ON outbox (partner_id, created_at DESC, event_id DESC)
    WHERE kind = 'CALLBACK';
