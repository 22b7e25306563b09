DROP TABLE partner_request_windows;
