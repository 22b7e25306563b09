DROP TABLE refund_accounts;
