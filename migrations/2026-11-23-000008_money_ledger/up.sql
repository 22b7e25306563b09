-- The money ledger (SPEC §15): every movement of money is a journal entry of one or more postings,
-- each moving a positive amount from a debited to a credited account of one partner and currency, so
-- every entry balances by construction. Written in the transaction of the change that causes it and
-- never changed: UPDATE, DELETE and TRUNCATE are refused by the triggers below. The posting rules are
-- `escrow_domain::ledger`; the back-fill at the end applies the same rules to the rows that exist.
-- A payout an operator cancelled (the approved trade was cancelled before its payout date) says so.
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check
    CHECK (status IN ('SCHEDULED', 'DUE', 'INSTRUCTING', 'INSTRUCTED', 'CANCELLED'));
UPDATE payouts p SET status = 'CANCELLED'
FROM trades t WHERE t.id = p.trade_id AND p.status = 'SCHEDULED' AND t.status_cd = 37;

CREATE TABLE journal_postings (
    id              bigserial PRIMARY KEY,
    entry_id        uuid NOT NULL,
    partner_id      uuid NOT NULL REFERENCES partners (id),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    checkout_id     uuid NOT NULL REFERENCES checkouts (id),
    trade_id        uuid REFERENCES trades (id),
    refund_id       bigint REFERENCES refunds (id),
    payout_id       bigint REFERENCES payouts (id),
    event           text NOT NULL CHECK (event IN ('CAPTURED', 'APPROVED', 'APPROVAL_REVERSED', 'PAYOUT_INSTRUCTED', 'REFUND_DUE', 'REFUNDED')),
    debit_account   text NOT NULL CHECK (debit_account IN ('PG_RECEIVABLE', 'BUYER_FUNDS_HELD', 'FEE_REVENUE', 'SELLER_PAYABLE', 'PAID_OUT', 'BUYER_REFUND_PAYABLE')),
    credit_account  text NOT NULL CHECK (credit_account IN ('PG_RECEIVABLE', 'BUYER_FUNDS_HELD', 'FEE_REVENUE', 'SELLER_PAYABLE', 'PAID_OUT', 'BUYER_REFUND_PAYABLE')),
    amount          bigint NOT NULL CHECK (amount > 0),
    posted_at       timestamptz NOT NULL,
    CHECK (debit_account <> credit_account)
);
-- Each movement happens once: a second capture, payout or refund of the same money is refused.
CREATE UNIQUE INDEX journal_postings_once ON journal_postings
    (checkout_id, coalesce(refund_id, 0), event, debit_account, credit_account);
CREATE INDEX journal_postings_by_trade ON journal_postings (trade_id) WHERE trade_id IS NOT NULL;
CREATE INDEX journal_postings_by_refund ON journal_postings (refund_id) WHERE refund_id IS NOT NULL;
CREATE INDEX journal_postings_by_payout ON journal_postings (payout_id) WHERE payout_id IS NOT NULL;
CREATE INDEX journal_postings_by_partner ON journal_postings (partner_id, currency);

CREATE FUNCTION journal_postings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal_postings is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER journal_postings_no_update_or_delete BEFORE UPDATE OR DELETE ON journal_postings
    FOR EACH ROW EXECUTE FUNCTION journal_postings_append_only();
CREATE TRIGGER journal_postings_no_truncate BEFORE TRUNCATE ON journal_postings
    FOR EACH STATEMENT EXECUTE FUNCTION journal_postings_append_only();

-- Back-fill: the entries of the money that moved before the ledger existed.
-- Captured: every trade that was ever paid (not 13 awaiting deposit, not 14 deposit cancelled).
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, trade_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5(t.id::text || ':CAPTURED')::uuid, t.partner_id, t.currency, t.checkout_id, t.id, 'CAPTURED',
       'PG_RECEIVABLE', 'BUYER_FUNDS_HELD', t.payment_amount,
       coalesce((SELECT min(e.occurred_at) FROM trade_events e WHERE e.trade_id = t.id AND e.to_status = 31),
                t.created_at)
FROM trades t
WHERE t.status_cd NOT IN (13, 14);

-- Approved: the escrow fee earned and the seller payable, one entry per payout.
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, trade_id, payout_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5(t.id::text || ':APPROVED')::uuid, t.partner_id, t.currency, t.checkout_id, t.id, p.id, 'APPROVED',
       'BUYER_FUNDS_HELD', x.credit_account, x.amount, p.created_at
FROM payouts p
JOIN trades t ON t.id = p.trade_id
CROSS JOIN LATERAL (VALUES ('FEE_REVENUE', t.escrow_fee), ('SELLER_PAYABLE', p.amount)) AS x (credit_account, amount)
WHERE x.amount > 0;

-- Approvals reversed: an operator cancelled the trade before its payout.
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, trade_id, payout_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5(t.id::text || ':APPROVAL_REVERSED')::uuid, t.partner_id, t.currency, t.checkout_id, t.id, p.id,
       'APPROVAL_REVERSED', x.debit_account, 'BUYER_FUNDS_HELD', x.amount, t.updated_at
FROM payouts p
JOIN trades t ON t.id = p.trade_id
CROSS JOIN LATERAL (VALUES ('FEE_REVENUE', t.escrow_fee), ('SELLER_PAYABLE', p.amount)) AS x (debit_account, amount)
WHERE p.status = 'CANCELLED' AND x.amount > 0;

-- Payouts instructed.
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, trade_id, payout_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5(t.id::text || ':PAYOUT_INSTRUCTED')::uuid, t.partner_id, t.currency, t.checkout_id, t.id, p.id,
       'PAYOUT_INSTRUCTED', 'SELLER_PAYABLE', 'PAID_OUT', p.amount, p.instructed_at
FROM payouts p
JOIN trades t ON t.id = p.trade_id
WHERE p.status = 'INSTRUCTED';

-- Late captures (a checkout no longer open was captured, SPEC §7): captured and due back at once.
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, refund_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5('refund:' || r.id || ':CAPTURED')::uuid, c.partner_id, r.currency, c.id, r.id, 'CAPTURED',
       'PG_RECEIVABLE', 'BUYER_FUNDS_HELD', r.amount, r.created_at
FROM refunds r
JOIN checkouts c ON c.id = r.checkout_id
WHERE r.reason = 'LATE_CONFIRMATION';

-- Refunds due (a scheduled return refund is still held until its date).
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, trade_id, refund_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5('refund:' || r.id || ':REFUND_DUE')::uuid, c.partner_id, r.currency, c.id, r.trade_id, r.id,
       'REFUND_DUE', 'BUYER_FUNDS_HELD', 'BUYER_REFUND_PAYABLE', r.amount, r.created_at
FROM refunds r
JOIN checkouts c ON c.id = coalesce(r.checkout_id, (SELECT t.checkout_id FROM trades t WHERE t.id = r.trade_id))
WHERE r.status <> 'SCHEDULED';

-- Refunds the PG made.
INSERT INTO journal_postings (entry_id, partner_id, currency, checkout_id, trade_id, refund_id, event,
                              debit_account, credit_account, amount, posted_at)
SELECT md5('refund:' || r.id || ':REFUNDED')::uuid, c.partner_id, r.currency, c.id, r.trade_id, r.id,
       'REFUNDED', 'BUYER_REFUND_PAYABLE', 'PG_RECEIVABLE', r.amount, coalesce(r.completed_at, r.created_at)
FROM refunds r
JOIN checkouts c ON c.id = coalesce(r.checkout_id, (SELECT t.checkout_id FROM trades t WHERE t.id = r.trade_id))
WHERE r.status = 'DONE';
