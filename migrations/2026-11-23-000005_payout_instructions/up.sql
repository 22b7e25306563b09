-- Payouts go through the PayoutInstructor port: the transition makes the payout DUE, the payout job
-- claims it (INSTRUCTING) and hands it to the instructor; INSTRUCTED once the instruction is recorded.
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('SCHEDULED', 'DUE', 'INSTRUCTING', 'INSTRUCTED'));
CREATE INDEX payouts_due ON payouts (due_date) WHERE status = 'DUE';

-- The bundled instructor's ledger: one line per payout, the source of the operator's bank transfer file.
CREATE TABLE payout_instructions (
    id             bigserial PRIMARY KEY,
    payout_id      bigint NOT NULL UNIQUE REFERENCES payouts (id),
    trade_id       uuid NOT NULL REFERENCES trades (id),
    seller_id      uuid NOT NULL REFERENCES members (id),
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text NOT NULL,
    due_date       date NOT NULL,
    instructed_at  timestamptz NOT NULL
);
CREATE INDEX payout_instructions_by_date ON payout_instructions (due_date);
