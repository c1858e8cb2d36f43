-- Pieces of the set-based ingest (ingest_batch.sql), one rule each. wr_status_wins is a single SQL expression, which
-- the planner inlines. The others are PL/pgSQL on purpose: a SQL function that cannot be inlined is parsed and planned
-- again for every statement that calls it (measured: a third of PostgreSQL's CPU on the hot path), PL/pgSQL keeps its
-- plans for the session. The ingest statement calls them only for events that carry variables or data items.

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

-- Merges an event's variables into the call's. e_vars holds the event's values (a null value removed), e_times every
-- name it carries with its time (a removal is kept as a time only: a tombstone). Per name the later time wins (equal
-- times: the event, i.e. the later arrival); a tombstone removes the name and keeps its time, so an older value
-- arriving later cannot bring it back.
CREATE OR REPLACE FUNCTION wr_variables_merge(c_vars jsonb, c_times jsonb, e_vars jsonb, e_times jsonb,
                                              OUT vars jsonb, OUT times jsonb)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    k text;
    t text;
BEGIN
    vars := c_vars;
    times := c_times;
    FOR k, t IN SELECT key, value FROM jsonb_each_text(e_times) LOOP
        IF times ->> k IS NULL OR t::timestamptz >= (times ->> k)::timestamptz THEN
            vars := CASE WHEN e_vars ? k THEN vars || jsonb_build_object(k, e_vars -> k) ELSE vars - k END;
            times := times || jsonb_build_object(k, e_times -> k);
        END IF;
    END LOOP;
END
$fn$;

-- The data items (recordings, transcripts, AI results) an event carries under any of p_keys, a single object or an
-- array, in order, each once.
CREATE OR REPLACE FUNCTION wr_items_of(p_data jsonb, p_keys text[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    k text;
    src jsonb;
    item jsonb;
    items jsonb := '[]'::jsonb;
BEGIN
    IF jsonb_typeof(p_data) IS DISTINCT FROM 'object' THEN
        RETURN items;
    END IF;
    FOREACH k IN ARRAY p_keys LOOP
        src := p_data -> k;
        CONTINUE WHEN src IS NULL OR jsonb_typeof(src) = 'null';
        IF jsonb_typeof(src) <> 'array' THEN
            src := jsonb_build_array(src);
        END IF;
        FOR item IN SELECT value FROM jsonb_array_elements(src) LOOP
            -- Exactly equal, not contained: {"url":"a"} is a new item beside {"url":"a","duration":5}.
            IF jsonb_typeof(item) <> 'null'
               AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(items) e WHERE e = item) THEN
                items := items || jsonb_build_array(item);
            END IF;
        END LOOP;
    END LOOP;
    RETURN items;
END
$fn$;

-- Appends the items not already in the list (exactly equal), in order.
CREATE OR REPLACE FUNCTION wr_items_append(p_list jsonb, p_items jsonb)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    item jsonb;
BEGIN
    FOR item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_list) e WHERE e = item) THEN
            p_list := p_list || jsonb_build_array(item);
        END IF;
    END LOOP;
    RETURN p_list;
END
$fn$;
