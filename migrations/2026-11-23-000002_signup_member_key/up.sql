-- The member key, kept until the partner reads the session result once (it also goes in member.signed_up).
ALTER TABLE signup_sessions ADD COLUMN member_key text;
