DROP TABLE delivery_request_vouchers;
DROP TABLE vouchers;
DROP TABLE delivery_requests;
