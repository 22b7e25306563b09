-- Per-partner request counts in one-minute windows (SPEC §18 rate limit), shared by every instance.
CREATE TABLE partner_request_windows (
    partner_id uuid NOT NULL REFERENCES partners (id),
    window_start timestamptz NOT NULL,
    requests bigint NOT NULL CHECK (requests > 0),
    PRIMARY KEY (partner_id, window_start)
);
CREATE INDEX partner_request_windows_start ON partner_request_windows (window_start);
