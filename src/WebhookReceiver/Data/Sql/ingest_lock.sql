-- First statement of every ingest batch: lock the batch's calls ($1, one call ID per event) until the commit.
-- Advisory locks, so a call that does not exist yet is locked too; sorted keys give every batch one lock order
-- (concurrent batches cannot deadlock). The rounds after it take their snapshots once the locks are granted.
SELECT count(pg_advisory_xact_lock(1466, k))
FROM (SELECT DISTINCT hashtext(c) AS k FROM unnest($1::text[]) AS c ORDER BY 1) AS s
