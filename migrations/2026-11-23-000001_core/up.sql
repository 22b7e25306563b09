-- The escrow service's schema: partners, members, products, checkouts, trades and everything a trade
-- causes. Money is BIGINT minor units beside a currency column; times are timestamptz.

CREATE TABLE partners (
    id                        uuid PRIMARY KEY,
    code                      text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    api_key_id                text NOT NULL UNIQUE CHECK (length(api_key_id) BETWEEN 8 AND 100),
    -- HMAC needs the secret itself; it never leaves the database except to verify a signature.
    api_secret                text NOT NULL CHECK (length(api_secret) >= 16),
    webhook_url               text,
    webhook_secret            text,
    webhook_secret_previous   text,
    allowed_redirect_origins  text[] NOT NULL DEFAULT '{}',
    status                    text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
    created_at                timestamptz NOT NULL DEFAULT now()
);

-- A partner's contract, versioned: the newest version in effect applies. No row: standard-2022.
CREATE TABLE contracts (
    id              bigserial PRIMARY KEY,
    partner_id      uuid NOT NULL REFERENCES partners (id),
    version         integer NOT NULL CHECK (version >= 1),
    code            text NOT NULL,
    terms           jsonb NOT NULL,
    effective_from  timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner_id, version)
);

CREATE TABLE members (
    id               uuid PRIMARY KEY,
    partner_id       uuid NOT NULL REFERENCES partners (id),
    partner_user_id  text NOT NULL CHECK (length(partner_user_id) BETWEEN 1 AND 100),
    status           text NOT NULL CHECK (status IN ('ACTIVE', 'DORMANT', 'WITHDRAWN')),
    member_key_hash  text NOT NULL,
    name             text NOT NULL,
    phone            text NOT NULL,
    birth_date       date NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    withdrawn_at     timestamptz,
    CHECK ((status = 'WITHDRAWN') = (withdrawn_at IS NOT NULL))
);
-- One live membership per partner user; withdrawn ones stay for the record.
CREATE UNIQUE INDEX members_one_live_per_user ON members (partner_id, partner_user_id) WHERE status <> 'WITHDRAWN';
CREATE INDEX members_by_user ON members (partner_id, partner_user_id, created_at);

CREATE TABLE signup_sessions (
    id               uuid PRIMARY KEY,
    partner_id       uuid NOT NULL REFERENCES partners (id),
    partner_user_id  text NOT NULL,
    return_url       text NOT NULL,
    status           text NOT NULL CHECK (status IN ('OPEN', 'COMPLETED', 'REFUSED', 'EXPIRED')),
    refusal_reason   text,
    member_id        uuid REFERENCES members (id),
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'COMPLETED') = (member_id IS NOT NULL))
);
CREATE INDEX signup_sessions_by_partner ON signup_sessions (partner_id, created_at);

CREATE TABLE member_terms_agreements (
    member_id   uuid NOT NULL REFERENCES members (id),
    term_code   text NOT NULL,
    version     text NOT NULL,
    agreed_at   timestamptz NOT NULL,
    PRIMARY KEY (member_id, term_code)
);

CREATE TABLE identity_verifications (
    id                 bigserial PRIMARY KEY,
    signup_session_id  uuid NOT NULL REFERENCES signup_sessions (id),
    member_id          uuid REFERENCES members (id),
    provider           text NOT NULL,
    outcome            text NOT NULL CHECK (outcome IN ('VERIFIED', 'REFUSED')),
    refusal_reason     text,
    verified_at        timestamptz NOT NULL
);

CREATE TABLE products (
    id                 uuid PRIMARY KEY,
    partner_id         uuid NOT NULL REFERENCES partners (id),
    seller_id          uuid NOT NULL REFERENCES members (id),
    partner_product_id text NOT NULL CHECK (length(partner_product_id) BETWEEN 1 AND 100),
    name               text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    price              bigint NOT NULL CHECK (price > 0),
    shipping_fee       bigint NOT NULL DEFAULT 0 CHECK (shipping_fee >= 0),
    payment_methods    text[] NOT NULL CHECK (cardinality(payment_methods) >= 1),
    description        text,
    image_url          text,
    category_code      text,
    status             text NOT NULL CHECK (status IN ('ON_SALE', 'RESERVED', 'SOLD', 'STOPPED')),
    has_trades         boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (partner_id, partner_product_id)
);
CREATE INDEX products_by_seller ON products (seller_id);

CREATE TABLE checkouts (
    id                 uuid PRIMARY KEY,
    partner_id         uuid NOT NULL REFERENCES partners (id),
    buyer_id           uuid NOT NULL REFERENCES members (id),
    seller_id          uuid NOT NULL REFERENCES members (id),
    product_id         uuid NOT NULL REFERENCES products (id),
    method             text NOT NULL CHECK (method IN ('CARD', 'BANK_TRANSFER', 'VIRTUAL_ACCOUNT')),
    trade_type         text NOT NULL CHECK (trade_type IN ('GENERAL', 'PREMIUM')),
    currency           text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    product_price      bigint NOT NULL CHECK (product_price > 0),
    shipping_fee       bigint NOT NULL CHECK (shipping_fee >= 0),
    payment_amount     bigint NOT NULL CHECK (payment_amount > 0),
    payment_fee        bigint NOT NULL CHECK (payment_fee >= 0),
    safe_trade_fee     bigint NOT NULL CHECK (safe_trade_fee >= 0),
    escrow_fee         bigint NOT NULL CHECK (escrow_fee >= 0),
    seller_payout      bigint NOT NULL CHECK (seller_payout > 0),
    shipping_address   jsonb NOT NULL,
    return_url         text NOT NULL,
    partner_trade_no   text,
    status             text NOT NULL CHECK (status IN ('OPEN', 'PAID', 'FAILED', 'EXPIRED')),
    failure_code       text,
    pg_gateway         text,
    pg_transaction_id  text UNIQUE,
    expires_at         timestamptz NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CHECK (payment_amount = product_price + shipping_fee),
    CHECK (escrow_fee = payment_fee + safe_trade_fee),
    CHECK (seller_payout = payment_amount - escrow_fee),
    CHECK ((status = 'FAILED') = (failure_code IS NOT NULL)),
    CHECK (buyer_id <> seller_id)
);
-- A product (quantity 1) has at most one checkout in flight.
CREATE UNIQUE INDEX checkouts_one_open_per_product ON checkouts (product_id) WHERE status = 'OPEN';
CREATE INDEX checkouts_expiring ON checkouts (expires_at) WHERE status = 'OPEN';
CREATE UNIQUE INDEX checkouts_partner_trade_no ON checkouts (partner_id, partner_trade_no) WHERE partner_trade_no IS NOT NULL AND status <> 'FAILED' AND status <> 'EXPIRED';

-- Seller limits: one counter per (seller, window, scope, period). A payment adds to four of them in one
-- transaction with `used = used + amount WHERE used + amount <= cap`; the CHECK is the last guard.
CREATE TABLE seller_limit_usage (
    seller_id     uuid NOT NULL REFERENCES members (id),
    limit_window  text NOT NULL CHECK (limit_window IN ('DAY', 'MONTH')),
    scope         text NOT NULL CHECK (scope IN ('TOTAL', 'CARD', 'BANK_TRANSFER', 'VIRTUAL_ACCOUNT')),
    period_start  date NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    used          bigint NOT NULL CHECK (used >= 0),
    cap           bigint NOT NULL CHECK (cap >= 0),
    CHECK (used <= cap),
    PRIMARY KEY (seller_id, limit_window, scope, period_start)
);

-- What one checkout reserved, so that exactly that is released (once) on failure, expiry or refund.
CREATE TABLE limit_reservations (
    checkout_id   uuid PRIMARY KEY REFERENCES checkouts (id),
    seller_id     uuid NOT NULL REFERENCES members (id),
    method        text NOT NULL,
    amount        bigint NOT NULL CHECK (amount > 0),
    day_start     date NOT NULL,
    month_start   date NOT NULL,
    reserved_at   timestamptz NOT NULL,
    released_at   timestamptz
);

CREATE TABLE trades (
    id                uuid PRIMARY KEY,
    partner_id        uuid NOT NULL REFERENCES partners (id),
    checkout_id       uuid NOT NULL UNIQUE REFERENCES checkouts (id),
    partner_trade_no  text,
    buyer_id          uuid NOT NULL REFERENCES members (id),
    seller_id         uuid NOT NULL REFERENCES members (id),
    product_id        uuid NOT NULL REFERENCES products (id),
    method            text NOT NULL,
    trade_type        text NOT NULL,
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_amount    bigint NOT NULL CHECK (payment_amount > 0),
    escrow_fee        bigint NOT NULL CHECK (escrow_fee >= 0),
    seller_payout     bigint NOT NULL CHECK (seller_payout > 0 AND seller_payout + escrow_fee = payment_amount),
    status_cd         smallint NOT NULL CHECK (status_cd IN (13, 14, 31, 32, 33, 34, 35, 36, 37, 51, 52, 53, 54)),
    complete_cd       smallint NOT NULL CHECK (complete_cd IN (80, 81, 82, 83, 84, 85)),
    held              boolean NOT NULL,
    delivered_at      timestamptz,
    payout_date       date,
    version           bigint NOT NULL CHECK (version >= 1),
    -- The whole domain trade; the columns above are what queries and constraints need.
    snapshot          jsonb NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
-- Never two open trades on one product.
CREATE UNIQUE INDEX trades_one_open_per_product ON trades (product_id) WHERE status_cd IN (13, 31, 32, 34, 51, 52, 53);
CREATE UNIQUE INDEX trades_partner_trade_no ON trades (partner_id, partner_trade_no) WHERE partner_trade_no IS NOT NULL;
CREATE INDEX trades_by_buyer ON trades (partner_id, buyer_id, created_at DESC, id);
CREATE INDEX trades_by_seller ON trades (partner_id, seller_id, created_at DESC, id);
CREATE INDEX trades_by_status ON trades (status_cd, updated_at);

ALTER TABLE checkouts ADD COLUMN trade_id uuid;

-- Append-only history: who, when, from, to, why. Partitionable by occurred_at.
CREATE TABLE trade_events (
    id               bigserial PRIMARY KEY,
    trade_id         uuid NOT NULL REFERENCES trades (id),
    sequence         bigint NOT NULL,
    command          text NOT NULL,
    actor_role       text NOT NULL,
    actor_id         text,
    from_status      smallint,
    to_status        smallint NOT NULL,
    from_withdrawal  smallint,
    to_withdrawal    smallint NOT NULL,
    reason           text,
    occurred_at      timestamptz NOT NULL,
    UNIQUE (trade_id, sequence)
);

-- A trade's pending timers, replaced by every transition; jobs read the due ones.
CREATE TABLE trade_timers (
    trade_id    uuid NOT NULL REFERENCES trades (id),
    kind        text NOT NULL,
    partner_id  uuid NOT NULL REFERENCES partners (id),
    due_at      timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    PRIMARY KEY (trade_id, kind)
);
CREATE INDEX trade_timers_due ON trade_timers (due_at);

-- PG transactions and what the PG reported when queried.
CREATE TABLE pg_transactions (
    id              bigserial PRIMARY KEY,
    checkout_id     uuid NOT NULL REFERENCES checkouts (id),
    gateway         text NOT NULL,
    transaction_id  text NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('STARTED', 'APPROVED', 'FAILED', 'FORGED')),
    failure_code    text,
    report          jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pg_transactions_by_checkout ON pg_transactions (checkout_id);

-- Refunds: always the full payment, at most one per trade.
CREATE TABLE refunds (
    id              bigserial PRIMARY KEY,
    trade_id        uuid NOT NULL UNIQUE REFERENCES trades (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    withdrawal_cd   smallint CHECK (withdrawal_cd IN (81, 82, 84, 85)),
    status          text NOT NULL CHECK (status IN ('SCHEDULED', 'PENDING', 'DONE', 'MANUAL_QUEUE')),
    due_date        date,
    detail          text,
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz
);
CREATE INDEX refunds_manual_queue ON refunds (created_at) WHERE status IN ('PENDING', 'MANUAL_QUEUE');

-- Payouts to sellers: at most one per trade; INSTRUCTED rows feed the operator's bank transfer file.
CREATE TABLE payouts (
    id              bigserial PRIMARY KEY,
    trade_id        uuid NOT NULL UNIQUE REFERENCES trades (id),
    seller_id       uuid NOT NULL REFERENCES members (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    due_date        date NOT NULL,
    status          text NOT NULL CHECK (status IN ('SCHEDULED', 'INSTRUCTED')),
    instructed_at   timestamptz,
    created_at      timestamptz NOT NULL,
    CHECK ((status = 'INSTRUCTED') = (instructed_at IS NOT NULL))
);

-- Messages that must not be lost: written with the change that caused them, delivered by workers
-- (FOR UPDATE SKIP LOCKED). Partitionable by created_at.
CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    event_id         uuid NOT NULL UNIQUE,
    kind             text NOT NULL CHECK (kind IN ('ALIMTALK', 'CALLBACK')),
    partner_id       uuid NOT NULL REFERENCES partners (id),
    trade_id         uuid REFERENCES trades (id),
    sequence         bigint,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX outbox_by_trade ON outbox (trade_id, sequence);

CREATE TABLE outbox_attempts (
    id            bigserial PRIMARY KEY,
    outbox_id     bigint NOT NULL REFERENCES outbox (id),
    attempted_at  timestamptz NOT NULL,
    outcome       text NOT NULL,
    detail        text
);
CREATE INDEX outbox_attempts_by_row ON outbox_attempts (outbox_id);

-- Idempotency keys (Stripe's semantics): the request's hash and its final response, kept ≥ 24 h.
CREATE TABLE idempotency_keys (
    partner_id       uuid NOT NULL REFERENCES partners (id),
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     text NOT NULL,
    resource_id      uuid,
    response_status  smallint,
    response_body    jsonb,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (partner_id, idempotency_key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- The business calendar's holidays; operators add and remove dates.
CREATE TABLE holidays (
    holiday_date  date PRIMARY KEY,
    name          text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Operator API keys, stored hashed.
CREATE TABLE admin_keys (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    key_hash    text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Request signatures seen inside the 5-minute window (replay refusal). Pruned by seen_at.
CREATE TABLE used_signatures (
    partner_id  uuid NOT NULL REFERENCES partners (id),
    signature   text NOT NULL,
    seen_at     timestamptz NOT NULL,
    PRIMARY KEY (partner_id, signature)
);
CREATE INDEX used_signatures_age ON used_signatures (seen_at);
-- Korean public holidays 2024–2030 (python-holidays 0.109, holidays.KR); operators edit them later.
INSERT INTO holidays (holiday_date, name) VALUES
    ('2024-01-01', 'New Year''s Day'),
    ('2024-02-09', 'The day preceding Korean New Year'),
    ('2024-02-10', 'Korean New Year'),
    ('2024-02-11', 'The second day of Korean New Year'),
    ('2024-02-12', 'Alternative holiday for Korean New Year'),
    ('2024-03-01', 'Independence Movement Day'),
    ('2024-04-10', 'National Assembly Election Day'),
    ('2024-05-05', 'Children''s Day'),
    ('2024-05-06', 'Alternative holiday for Children''s Day'),
    ('2024-05-15', 'Buddha''s Birthday'),
    ('2024-06-06', 'Memorial Day'),
    ('2024-08-15', 'Liberation Day'),
    ('2024-09-16', 'The day preceding Chuseok'),
    ('2024-09-17', 'Chuseok'),
    ('2024-09-18', 'The second day of Chuseok'),
    ('2024-10-01', 'Armed Forces Day'),
    ('2024-10-03', 'National Foundation Day'),
    ('2024-10-09', 'Hangul Day'),
    ('2024-12-25', 'Christmas Day'),
    ('2025-01-01', 'New Year''s Day'),
    ('2025-01-27', 'Temporary Public Holiday'),
    ('2025-01-28', 'The day preceding Korean New Year'),
    ('2025-01-29', 'Korean New Year'),
    ('2025-01-30', 'The second day of Korean New Year'),
    ('2025-03-01', 'Independence Movement Day'),
    ('2025-03-03', 'Alternative holiday for Independence Movement Day'),
    ('2025-05-05', 'Buddha''s Birthday; Children''s Day'),
    ('2025-05-06', 'Alternative holiday for Buddha''s Birthday; Alternative holiday for Children''s Day'),
    ('2025-06-03', 'Presidential Election Day'),
    ('2025-06-06', 'Memorial Day'),
    ('2025-08-15', 'Liberation Day'),
    ('2025-10-03', 'National Foundation Day'),
    ('2025-10-05', 'The day preceding Chuseok'),
    ('2025-10-06', 'Chuseok'),
    ('2025-10-07', 'The second day of Chuseok'),
    ('2025-10-08', 'Alternative holiday for Chuseok'),
    ('2025-10-09', 'Hangul Day'),
    ('2025-12-25', 'Christmas Day'),
    ('2026-01-01', 'New Year''s Day'),
    ('2026-02-16', 'The day preceding Korean New Year'),
    ('2026-02-17', 'Korean New Year'),
    ('2026-02-18', 'The second day of Korean New Year'),
    ('2026-03-01', 'Independence Movement Day'),
    ('2026-03-02', 'Alternative holiday for Independence Movement Day'),
    ('2026-05-01', 'Labor Day'),
    ('2026-05-05', 'Children''s Day'),
    ('2026-05-24', 'Buddha''s Birthday'),
    ('2026-05-25', 'Alternative holiday for Buddha''s Birthday'),
    ('2026-06-03', 'Local Election Day'),
    ('2026-06-06', 'Memorial Day'),
    ('2026-07-17', 'Constitution Day'),
    ('2026-08-15', 'Liberation Day'),
    ('2026-08-17', 'Alternative holiday for Liberation Day'),
    ('2026-09-24', 'The day preceding Chuseok'),
    ('2026-09-25', 'Chuseok'),
    ('2026-09-26', 'The second day of Chuseok'),
    ('2026-10-03', 'National Foundation Day'),
    ('2026-10-05', 'Alternative holiday for National Foundation Day'),
    ('2026-10-09', 'Hangul Day'),
    ('2026-12-25', 'Christmas Day'),
    ('2027-01-01', 'New Year''s Day'),
    ('2027-02-06', 'The day preceding Korean New Year'),
    ('2027-02-07', 'Korean New Year'),
    ('2027-02-08', 'The second day of Korean New Year'),
    ('2027-02-09', 'Alternative holiday for Korean New Year'),
    ('2027-03-01', 'Independence Movement Day'),
    ('2027-05-01', 'Labor Day'),
    ('2027-05-03', 'Alternative holiday for Labor Day'),
    ('2027-05-05', 'Children''s Day'),
    ('2027-05-13', 'Buddha''s Birthday'),
    ('2027-06-06', 'Memorial Day'),
    ('2027-07-17', 'Constitution Day'),
    ('2027-07-19', 'Alternative holiday for Constitution Day'),
    ('2027-08-15', 'Liberation Day'),
    ('2027-08-16', 'Alternative holiday for Liberation Day'),
    ('2027-09-14', 'The day preceding Chuseok'),
    ('2027-09-15', 'Chuseok'),
    ('2027-09-16', 'The second day of Chuseok'),
    ('2027-10-03', 'National Foundation Day'),
    ('2027-10-04', 'Alternative holiday for National Foundation Day'),
    ('2027-10-09', 'Hangul Day'),
    ('2027-10-11', 'Alternative holiday for Hangul Day'),
    ('2027-12-25', 'Christmas Day'),
    ('2027-12-27', 'Alternative holiday for Christmas Day'),
    ('2028-01-01', 'New Year''s Day'),
    ('2028-01-26', 'The day preceding Korean New Year'),
    ('2028-01-27', 'Korean New Year'),
    ('2028-01-28', 'The second day of Korean New Year'),
    ('2028-03-01', 'Independence Movement Day'),
    ('2028-04-12', 'National Assembly Election Day'),
    ('2028-05-01', 'Labor Day'),
    ('2028-05-02', 'Buddha''s Birthday'),
    ('2028-05-05', 'Children''s Day'),
    ('2028-06-06', 'Memorial Day'),
    ('2028-07-17', 'Constitution Day'),
    ('2028-08-15', 'Liberation Day'),
    ('2028-10-02', 'The day preceding Chuseok'),
    ('2028-10-03', 'Chuseok; National Foundation Day'),
    ('2028-10-04', 'The second day of Chuseok'),
    ('2028-10-05', 'Alternative holiday for Chuseok'),
    ('2028-10-09', 'Hangul Day'),
    ('2028-12-25', 'Christmas Day'),
    ('2029-01-01', 'New Year''s Day'),
    ('2029-02-12', 'The day preceding Korean New Year'),
    ('2029-02-13', 'Korean New Year'),
    ('2029-02-14', 'The second day of Korean New Year'),
    ('2029-03-01', 'Independence Movement Day'),
    ('2029-05-01', 'Labor Day'),
    ('2029-05-05', 'Children''s Day'),
    ('2029-05-07', 'Alternative holiday for Children''s Day'),
    ('2029-05-20', 'Buddha''s Birthday'),
    ('2029-05-21', 'Alternative holiday for Buddha''s Birthday'),
    ('2029-06-06', 'Memorial Day'),
    ('2029-07-17', 'Constitution Day'),
    ('2029-08-15', 'Liberation Day'),
    ('2029-09-21', 'The day preceding Chuseok'),
    ('2029-09-22', 'Chuseok'),
    ('2029-09-23', 'The second day of Chuseok'),
    ('2029-09-24', 'Alternative holiday for Chuseok'),
    ('2029-10-03', 'National Foundation Day'),
    ('2029-10-09', 'Hangul Day'),
    ('2029-12-25', 'Christmas Day'),
    ('2030-01-01', 'New Year''s Day'),
    ('2030-02-02', 'The day preceding Korean New Year'),
    ('2030-02-03', 'Korean New Year'),
    ('2030-02-04', 'The second day of Korean New Year'),
    ('2030-02-05', 'Alternative holiday for Korean New Year'),
    ('2030-03-01', 'Independence Movement Day'),
    ('2030-03-27', 'Presidential Election Day'),
    ('2030-05-01', 'Labor Day'),
    ('2030-05-05', 'Children''s Day'),
    ('2030-05-06', 'Alternative holiday for Children''s Day'),
    ('2030-05-09', 'Buddha''s Birthday'),
    ('2030-06-06', 'Memorial Day'),
    ('2030-06-12', 'Local Election Day'),
    ('2030-07-17', 'Constitution Day'),
    ('2030-08-15', 'Liberation Day'),
    ('2030-09-11', 'The day preceding Chuseok'),
    ('2030-09-12', 'Chuseok'),
    ('2030-09-13', 'The second day of Chuseok'),
    ('2030-10-03', 'National Foundation Day'),
    ('2030-10-09', 'Hangul Day'),
    ('2030-12-25', 'Christmas Day');
