DROP TABLE addresses;
DROP FUNCTION addresses_keep_a_prime();
