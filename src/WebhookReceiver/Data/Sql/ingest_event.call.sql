SELECT result, event_id, out_of_order, call_status, call_is_final, became_final, actions_created
FROM wr_ingest_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
