-- Whether the local source already holds data (the demo builds it only once).
SELECT EXISTS (SELECT 1 FROM conversations)
