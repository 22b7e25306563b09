-- The back office's payment setup (SPEC §12): which PG serves each main method, the merchant
-- accounts (MIDs) and their sealed keys, and the audit of every operator change.

CREATE TABLE payment_routes (
    gateway TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('CARD', 'BANK_TRANSFER', 'VIRTUAL_ACCOUNT')),
    connected BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (gateway, method)
);

CREATE TABLE merchants (
    id UUID PRIMARY KEY,
    gateway TEXT NOT NULL,
    partner_id UUID REFERENCES partners (id),
    mode TEXT NOT NULL CHECK (mode IN ('LIVE', 'TEST')),
    mid TEXT NOT NULL,
    -- JSON object of key name → value, sealed with the master key (sealing.rs).
    keys_sealed TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);

CREATE TABLE payment_setup_audit (
    id BIGSERIAL PRIMARY KEY,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    subject TEXT NOT NULL,
    before JSONB,
    after JSONB
);

-- The merchant each checkout pays with (its refunds and inquiries use the same).
ALTER TABLE checkouts ADD COLUMN pg_merchant_id UUID REFERENCES merchants (id);
