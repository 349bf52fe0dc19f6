-- The BigQuery table that bq-merge writes: one row per sale and product,
-- keyed on (sale_id, product_id).  "bq-merge --create-table" runs this
-- statement with TABLE_NAME replaced by `project.dataset.table`.
--
-- quantity is NUMERIC: ls-fetch writes fractional quantities for goods sold
-- by weight (0.682 kg), which INT64 cannot hold, and NUMERIC keeps them as
-- exact decimals (9 places), so sums do not drift as FLOAT64 sums do.
--
-- Partitioned by day so a MERGE touches only the days of its batch, and
-- clustered on the merge key so it reads only the blocks it matches.
CREATE TABLE IF NOT EXISTS TABLE_NAME (
  sale_id STRING NOT NULL,
  timestamp TIMESTAMP NOT NULL,
  customer_id STRING NOT NULL,
  product_id STRING NOT NULL,
  product_name STRING,
  quantity NUMERIC NOT NULL,
  price FLOAT64 NOT NULL,
  payment_method STRING
)
PARTITION BY DATE(timestamp)
CLUSTER BY sale_id, product_id
OPTIONS (description = "Lightspeed sales lines, one row per sale and product; written by bq-merge")
