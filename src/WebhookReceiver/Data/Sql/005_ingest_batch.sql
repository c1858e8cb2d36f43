-- Pieces of the set-based ingest (ingest_batch.sql), one rule each. SQL functions with a single expression are
-- inlined by the planner; the others run only for events that carry variables or data items.

-- Call status rule: a final status beats a non-final one whatever their times; within one class the later
-- created_at wins, equal times break by status text (so the result does not depend on arrival order).
CREATE OR REPLACE FUNCTION wr_status_wins(c_status text, c_final boolean, c_at timestamptz,
                                          e_status text, e_final boolean, e_at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $fn$
    SELECT e_at IS NOT NULL AND e_status IS NOT NULL
           AND (c_status IS NULL OR c_at IS NULL
                OR CASE WHEN e_final <> c_final THEN e_final
                        ELSE e_at > c_at OR (e_at = c_at AND e_status > c_status) END)
$fn$;

-- An event's variables as (values, times): a null value is a removal, kept as a time only (a tombstone).
CREATE OR REPLACE FUNCTION wr_variables_of(p_incoming jsonb, p_at timestamptz, OUT vars jsonb, OUT times jsonb)
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT COALESCE(jsonb_object_agg(key, value) FILTER (WHERE jsonb_typeof(value) <> 'null'), '{}'::jsonb),
           COALESCE(jsonb_object_agg(key, to_jsonb(p_at)), '{}'::jsonb)
    FROM jsonb_each(CASE WHEN jsonb_typeof(p_incoming) = 'object' THEN p_incoming ELSE '{}'::jsonb END)
$fn$;

-- Merges an event's variables (from wr_variables_of) into the call's: per name, the later time wins (equal
-- times: the event, i.e. the later arrival); a tombstone removes the name and keeps its time.
CREATE OR REPLACE FUNCTION wr_variables_merge(c_vars jsonb, c_times jsonb, e_vars jsonb, e_times jsonb,
                                              OUT vars jsonb, OUT times jsonb)
LANGUAGE sql IMMUTABLE AS $fn$
    WITH taken AS (
        SELECT t.key FROM jsonb_each_text(e_times) t
        WHERE c_times ->> t.key IS NULL OR t.value::timestamptz >= (c_times ->> t.key)::timestamptz)
    SELECT (c_vars - ARRAY(SELECT key FROM taken))
               || COALESCE((SELECT jsonb_object_agg(key, e_vars -> key) FROM taken WHERE e_vars ? key), '{}'::jsonb),
           c_times || COALESCE((SELECT jsonb_object_agg(key, e_times -> key) FROM taken), '{}'::jsonb)
$fn$;

-- The data items (recordings, transcripts, AI results) an event carries under any of p_keys, a single object or
-- an array, in order, each once.
CREATE OR REPLACE FUNCTION wr_items_of(p_data jsonb, p_keys text[])
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN jsonb_typeof(p_data) = 'object' AND p_data ?| p_keys THEN (
        SELECT COALESCE(jsonb_agg(item ORDER BY pos), '[]'::jsonb)
        FROM (SELECT e.value AS item, min(k.n * 1000000 + e.n) AS pos
              FROM unnest(p_keys) WITH ORDINALITY AS k(key, n)
                   CROSS JOIN LATERAL jsonb_array_elements(
                       CASE jsonb_typeof(p_data -> k.key) WHEN 'array' THEN p_data -> k.key
                                                           WHEN 'null' THEN '[]'::jsonb
                                                           ELSE COALESCE(jsonb_build_array(p_data -> k.key), '[]'::jsonb) END)
                       WITH ORDINALITY AS e(value, n)
              WHERE p_data -> k.key IS NOT NULL AND jsonb_typeof(e.value) <> 'null'
              GROUP BY e.value) d)
    ELSE '[]'::jsonb END
$fn$;

-- Appends the items not already in the list (exactly equal), in order.
CREATE OR REPLACE FUNCTION wr_items_append(p_list jsonb, p_items jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN p_items = '[]'::jsonb THEN p_list ELSE p_list || COALESCE((
        SELECT jsonb_agg(e.value ORDER BY e.n)
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(value, n)
        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_list) l WHERE l.value = e.value)), '[]'::jsonb) END
$fn$;
