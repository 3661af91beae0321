-- The source's own "now" as naive UTC (the form of its timestamps): a window's upper bound.
SELECT (now() AT TIME ZONE 'UTC')::timestamp;
