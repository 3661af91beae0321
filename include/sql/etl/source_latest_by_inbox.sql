-- The newest change per inbox in the source (naive UTC), to measure each tenant's lag.
SELECT inbox_id, max(conversation_updated_at)
FROM vw_conversations_analytics_final
GROUP BY inbox_id;
