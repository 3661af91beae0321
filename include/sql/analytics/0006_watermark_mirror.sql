-- The value the ETL last wrote to the tenant's watermark Variable. A Variable still equal to it is
-- our own mirror lagging behind (a publish failed since), not an operator's rewind; any other
-- earlier value is an operator's edit.
ALTER TABLE etl_watermarks ADD COLUMN IF NOT EXISTS mirrored_value text;
