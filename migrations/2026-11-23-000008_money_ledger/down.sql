DROP TABLE journal_postings;
DROP FUNCTION journal_postings_append_only();
UPDATE payouts SET status = 'SCHEDULED' WHERE status = 'CANCELLED';
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('SCHEDULED', 'DUE', 'INSTRUCTING', 'INSTRUCTED'));
