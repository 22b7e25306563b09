-- Members' address books (SPEC §13, seed 004 배송지). Exactly one prime address per member whenever
-- the member has any: at most one by the partial unique index, at least one by a constraint trigger
-- checked at commit. The code serialises a member's changes by locking the member's row first.
CREATE TABLE addresses (
    id BIGSERIAL PRIMARY KEY,
    partner_id UUID NOT NULL REFERENCES partners (id),
    member_id UUID NOT NULL REFERENCES members (id),
    name TEXT NOT NULL,
    recipient TEXT NOT NULL,
    contact TEXT NOT NULL,
    postcode TEXT NOT NULL,
    address TEXT NOT NULL,
    address_detail TEXT NOT NULL,
    requirement TEXT,
    prime BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX addresses_member ON addresses (member_id);
CREATE UNIQUE INDEX addresses_one_prime ON addresses (member_id) WHERE prime;

CREATE FUNCTION addresses_keep_a_prime() RETURNS trigger AS $$
DECLARE
    m UUID := COALESCE(NEW.member_id, OLD.member_id);
BEGIN
    IF EXISTS (SELECT 1 FROM addresses WHERE member_id = m)
       AND NOT EXISTS (SELECT 1 FROM addresses WHERE member_id = m AND prime) THEN
        RAISE EXCEPTION 'member % has addresses but no prime address', m
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER addresses_prime_exists
    AFTER INSERT OR UPDATE OR DELETE ON addresses
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION addresses_keep_a_prime();
