ALTER TABLE checkouts DROP COLUMN pg_merchant_id;
DROP TABLE payment_setup_audit;
DROP TABLE merchants;
DROP TABLE payment_routes;
