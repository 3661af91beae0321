-- One pass over the view: rows, distinct conversations, updated_at range and NULL counts of the
-- columns the dashboards use, per account and inbox. Placeholders are filled with identifiers
-- (or NULL for a column the view lacks) by chatwoot_etl.inventory.
SELECT {account_id} AS account_id,
       {inbox_id} AS inbox_id,
       count(*) AS view_rows,
       count(DISTINCT {conversation_id}) AS conversations,
       min({updated_at}) AS updated_min,
       max({updated_at}) AS updated_max{null_counts}
FROM {view}
GROUP BY 1, 2
ORDER BY 1, 2;
