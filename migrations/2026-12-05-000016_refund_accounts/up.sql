-- Buyers' refund accounts (SPEC §12): where a virtual-account payment is refunded to. Verified by a
-- holder-name lookup, number and holder sealed with the master key.
CREATE TABLE refund_accounts (
    member_id UUID PRIMARY KEY REFERENCES members (id),
    partner_id UUID NOT NULL REFERENCES partners (id),
    bank_code TEXT NOT NULL,
    number_sealed TEXT NOT NULL,
    holder_sealed TEXT NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
