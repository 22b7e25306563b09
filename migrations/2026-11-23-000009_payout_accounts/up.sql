-- Sellers' payout accounts (SPEC §15): one per member, verified by a holder-name lookup before it is
-- stored. The number and holder are sealed with the master key (context names the member); the masked
-- forms are what people see.
CREATE TABLE payout_accounts (
    member_id      uuid PRIMARY KEY REFERENCES members (id),
    partner_id     uuid NOT NULL REFERENCES partners (id),
    bank_code      text NOT NULL CHECK (bank_code ~ '^[0-9]{2}$'),
    number_sealed  text NOT NULL,
    holder_sealed  text NOT NULL,
    number_masked  text NOT NULL,
    holder_masked  text NOT NULL,
    verified_at    timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- The bank file names the account a payout went to (as it was when instructed), not the member.
ALTER TABLE payout_instructions ADD COLUMN bank_code text;
ALTER TABLE payout_instructions ADD COLUMN account_sealed text;
ALTER TABLE payout_instructions ADD COLUMN holder_sealed text;
