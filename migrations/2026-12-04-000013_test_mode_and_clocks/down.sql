ALTER TABLE trades DROP COLUMN test_clock_id;
ALTER TABLE checkouts DROP COLUMN test_clock_id;
ALTER TABLE members DROP COLUMN test_clock_id;
ALTER TABLE signup_sessions DROP COLUMN test_clock_id;
DROP TABLE test_clocks;
ALTER TABLE partners DROP COLUMN mode;
