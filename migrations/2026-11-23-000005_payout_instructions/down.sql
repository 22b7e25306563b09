DROP TABLE payout_instructions;
DROP INDEX payouts_due;
UPDATE payouts SET status = 'INSTRUCTED', instructed_at = coalesce(instructed_at, now()) WHERE status IN ('DUE', 'INSTRUCTING');
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('SCHEDULED', 'INSTRUCTED'));
