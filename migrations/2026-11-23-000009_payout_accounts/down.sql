ALTER TABLE payout_instructions DROP COLUMN holder_sealed;
ALTER TABLE payout_instructions DROP COLUMN account_sealed;
ALTER TABLE payout_instructions DROP COLUMN bank_code;
DROP TABLE payout_accounts;
