-- Interest-free installment notices (무이자할부 안내, SPEC §12), managed by operators; changes are
-- audited in payment_setup_audit.
CREATE TABLE installment_notices (
    id UUID PRIMARY KEY,
    gateway TEXT NOT NULL,
    -- The notice as the domain defines it (card, months, minimum, dates, funder, exclusions).
    notice JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);
