ALTER TABLE signup_sessions DROP COLUMN member_key;
