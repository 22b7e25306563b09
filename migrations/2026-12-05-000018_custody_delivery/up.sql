-- Custody vouchers and delivery requests (SPEC §13, seed 004 배송 요청). A voucher that is not
-- available is held by exactly one request (open_request_id), so it is in at most one open request;
-- the code takes vouchers with a conditional update under row locks.
CREATE TABLE delivery_requests (
    id BIGSERIAL PRIMARY KEY,
    partner_id UUID NOT NULL REFERENCES partners (id),
    requester_id UUID NOT NULL REFERENCES members (id),
    recipient TEXT NOT NULL,
    contact TEXT NOT NULL,
    postcode TEXT NOT NULL,
    address TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    requirement TEXT,
    shipping_state TEXT NOT NULL CHECK (shipping_state IN ('waiting', 'shipped')),
    payment_state TEXT NOT NULL
        CHECK (payment_state IN ('waiting', 'paid', 'forgeried', 'refunding', 'refunded')),
    merchant_uid TEXT NOT NULL UNIQUE,
    -- One PortOne payment pays at most one request.
    imp_uid TEXT UNIQUE,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    paid_at TIMESTAMPTZ,
    refunded_at TIMESTAMPTZ,
    forgery_cancelled_at TIMESTAMPTZ,
    shipped_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT delivery_requests_ship_only_paid CHECK (shipping_state = 'waiting' OR payment_state = 'paid')
);

CREATE INDEX delivery_requests_by_partner ON delivery_requests (partner_id, id DESC);

CREATE TABLE vouchers (
    id BIGSERIAL PRIMARY KEY,
    partner_id UUID NOT NULL REFERENCES partners (id),
    owner_id UUID NOT NULL REFERENCES members (id),
    item_name TEXT NOT NULL,
    image_url TEXT,
    state TEXT NOT NULL CHECK (state IN ('available', 'shipping', 'shipped')),
    open_request_id BIGINT REFERENCES delivery_requests (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT vouchers_held_by_one_request CHECK ((state = 'available') = (open_request_id IS NULL))
);

CREATE INDEX vouchers_by_owner ON vouchers (owner_id, id DESC);

-- Which vouchers a request holds or held.
CREATE TABLE delivery_request_vouchers (
    request_id BIGINT NOT NULL REFERENCES delivery_requests (id) ON DELETE CASCADE,
    voucher_id BIGINT NOT NULL REFERENCES vouchers (id),
    PRIMARY KEY (request_id, voucher_id)
);
