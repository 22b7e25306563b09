-- Test mode and test clocks (SPEC §16). A partner is LIVE or TEST; a test partner's clocks are frozen
-- instants its signup sessions, members, checkouts and trades live by. Entities on a clock are left
-- alone by the real-time jobs: only advancing their clock moves their time.
ALTER TABLE partners ADD COLUMN mode text NOT NULL DEFAULT 'LIVE' CHECK (mode IN ('LIVE', 'TEST'));

CREATE TABLE test_clocks (
    id uuid PRIMARY KEY,
    partner_id uuid NOT NULL REFERENCES partners (id),
    name text NOT NULL CHECK (char_length(name) <= 100),
    frozen_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX test_clocks_partner ON test_clocks (partner_id, created_at);

ALTER TABLE signup_sessions ADD COLUMN test_clock_id uuid REFERENCES test_clocks (id);
ALTER TABLE members ADD COLUMN test_clock_id uuid REFERENCES test_clocks (id);
ALTER TABLE checkouts ADD COLUMN test_clock_id uuid REFERENCES test_clocks (id);
ALTER TABLE trades ADD COLUMN test_clock_id uuid REFERENCES test_clocks (id);
CREATE INDEX trades_test_clock ON trades (test_clock_id) WHERE test_clock_id IS NOT NULL;
CREATE INDEX checkouts_test_clock ON checkouts (test_clock_id) WHERE test_clock_id IS NOT NULL;
