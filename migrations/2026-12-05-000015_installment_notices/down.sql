DROP TABLE installment_notices;
