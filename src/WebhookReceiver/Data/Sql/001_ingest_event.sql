-- The webhook hot path: ONE statement per event, so one round trip and one commit.
-- Locks the call row (or creates it), inserts the event behind its unique identity,
-- and merges the event into the call record by the contract's rules (README "Call records").

-- Merges an event's variables: per name, the event with the later created_at wins; null removes the
-- name, and the removal's time is kept (a tombstone) so an older value arriving later cannot revive it.
CREATE OR REPLACE FUNCTION wr_merge_variables(p_vars jsonb, p_times jsonb, p_incoming jsonb, p_at timestamptz,
                                              OUT vars jsonb, OUT times jsonb)
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    k text;
    v jsonb;
    t_old timestamptz;
BEGIN
    vars := p_vars;
    times := p_times;
    IF p_incoming IS NULL OR jsonb_typeof(p_incoming) <> 'object' THEN
        RETURN;
    END IF;
    FOR k, v IN SELECT key, value FROM jsonb_each(p_incoming) LOOP
        t_old := (times ->> k)::timestamptz;
        -- Equal times: the later arrival wins.
        IF t_old IS NULL OR p_at >= t_old THEN
            IF jsonb_typeof(v) = 'null' THEN
                vars := vars - k;
            ELSE
                vars := vars || jsonb_build_object(k, v);
            END IF;
            times := times || jsonb_build_object(k, p_at);
        END IF;
    END LOOP;
END
$fn$;

-- Appends data items (recordings, transcripts, AI results) found under any of p_keys, a single
-- object or an array; an item already in the list (exactly equal) is not added twice.
CREATE OR REPLACE FUNCTION wr_append_items(p_list jsonb, p_data jsonb, p_keys text[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    k text;
    src jsonb;
    item jsonb;
BEGIN
    IF p_data IS NULL OR jsonb_typeof(p_data) <> 'object' THEN
        RETURN p_list;
    END IF;
    FOREACH k IN ARRAY p_keys LOOP
        src := p_data -> k;
        CONTINUE WHEN src IS NULL OR jsonb_typeof(src) = 'null';
        IF jsonb_typeof(src) <> 'array' THEN
            src := jsonb_build_array(src);
        END IF;
        FOR item IN SELECT value FROM jsonb_array_elements(src) LOOP
            IF jsonb_typeof(item) <> 'null'
               AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_list) e WHERE e = item) THEN
                p_list := p_list || jsonb_build_array(item);
            END IF;
        END LOOP;
    END LOOP;
    RETURN p_list;
END
$fn$;

-- Records the background work an accepted event calls for, in the event's own transaction (the outbox):
-- crm.sync after every event that leaves the call final; ticket.create once per call that ends in one of
-- p_ticket_statuses (canonical forms). Returns how many actions were created.
CREATE OR REPLACE FUNCTION wr_record_actions(p_call_id text, p_event_id bigint, p_status text, p_is_final boolean,
                                             p_ticket_statuses text[])
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    v_created integer := 0;
BEGIN
    IF NOT p_is_final THEN
        RETURN 0;
    END IF;
    INSERT INTO call_actions (call_id, event_id, action, state, attempts, created_at, updated_at)
    VALUES (p_call_id, p_event_id, 'crm.sync', 'pending', 0, now(), now());
    v_created := 1;
    IF lower(replace(p_status, '_', '-')) = ANY (p_ticket_statuses) THEN
        INSERT INTO call_actions (call_id, event_id, action, state, attempts, created_at, updated_at)
        VALUES (p_call_id, p_event_id, 'ticket.create', 'pending', 0, now(), now())
        ON CONFLICT (call_id) WHERE action = 'ticket.create' DO NOTHING;
        IF FOUND THEN
            v_created := v_created + 1;
        END IF;
    END IF;
    RETURN v_created;
END
$fn$;

CREATE OR REPLACE FUNCTION wr_ingest_event(
    p_identity text, p_webhook_id text, p_call_id text, p_event text, p_status text, p_is_final boolean,
    p_created_at timestamptz, p_customer_id text, p_application_id text, p_direction text,
    p_from text, p_to text, p_raw bytea, p_ticket_statuses text[])
RETURNS TABLE (result text, event_id bigint, out_of_order boolean, call_status text, call_is_final boolean,
               became_final boolean, actions_created integer)
LANGUAGE plpgsql AS $fn$
DECLARE
    c calls%ROWTYPE;
    v_body jsonb;
    v_data jsonb;
    v_billing jsonb;
    v_new_call boolean := false;
    v_event_id bigint;
    v_ooo boolean := false;
    v_vars jsonb;
    v_times jsonb;
    v_take_status boolean := false;
    v_take_fields boolean;
    v_status text;
    v_is_final boolean;
BEGIN
    -- The raw bytes stay byte-exact; the jsonb copy skips a UTF-8 byte order mark, which jsonb refuses.
    v_body := convert_from(CASE WHEN substring(p_raw FROM 1 FOR 3) = '\xefbbbf'::bytea
                                THEN substring(p_raw FROM 4) ELSE p_raw END, 'UTF8')::jsonb;
    v_data := v_body -> 'data';
    v_billing := CASE WHEN jsonb_typeof(v_data -> 'billing') = 'object' THEN v_data -> 'billing' END;

    LOOP
        SELECT * INTO c FROM calls WHERE id = p_call_id FOR UPDATE;
        EXIT WHEN FOUND;
        SELECT m.vars, m.times INTO v_vars, v_times
        FROM wr_merge_variables('{}'::jsonb, '{}'::jsonb, v_body -> 'variables', p_created_at) m;
        INSERT INTO calls (id, customer_id, application_id, direction, from_number, to_number, status, is_final,
                           status_at, fields_at, first_event_at, last_event_at, activity_at, variables, variable_times,
                           recordings, transcripts, ai_results, billing, billing_at, created_at, updated_at)
        VALUES (p_call_id, p_customer_id, p_application_id, p_direction, p_from, p_to, p_status, COALESCE(p_is_final, false),
                CASE WHEN p_status IS NOT NULL THEN p_created_at END, p_created_at, p_created_at, p_created_at, p_created_at,
                v_vars, v_times,
                wr_append_items('[]'::jsonb, v_data, ARRAY['recordings', 'recording']),
                wr_append_items('[]'::jsonb, v_data, ARRAY['transcripts', 'transcript']),
                wr_append_items('[]'::jsonb, v_data, ARRAY['ai_results', 'ai_result', 'ai', 'scoring']),
                v_billing, CASE WHEN v_billing IS NOT NULL THEN p_created_at END, now(), now())
        ON CONFLICT (id) DO NOTHING;
        IF FOUND THEN
            v_new_call := true;
            EXIT;
        END IF;
        -- Lost a race with another first event of this call: loop to lock the winner's row.
    END LOOP;

    IF NOT v_new_call THEN
        v_ooo := c.last_event_at IS NOT NULL AND p_created_at < c.last_event_at;
    END IF;

    INSERT INTO webhook_events (identity, webhook_id, call_id, event, status, created_at, received_at, out_of_order, raw_body, body)
    VALUES (p_identity, p_webhook_id, p_call_id, p_event, p_status, p_created_at, now(), v_ooo, p_raw, v_body)
    ON CONFLICT (identity) DO NOTHING
    RETURNING id INTO v_event_id;

    IF v_event_id IS NULL THEN
        -- A redelivery: nothing new may remain, not even a call row this statement just created.
        IF v_new_call THEN
            DELETE FROM calls WHERE id = p_call_id;
        END IF;
        RETURN QUERY SELECT 'duplicate'::text, (SELECT e.id FROM webhook_events e WHERE e.identity = p_identity),
                            false, c.status, COALESCE(c.is_final, false), false, 0;
        RETURN;
    END IF;

    IF v_new_call THEN
        RETURN QUERY SELECT 'accepted'::text, v_event_id, false, p_status, COALESCE(p_is_final, false), COALESCE(p_is_final, false),
                            wr_record_actions(p_call_id, v_event_id, p_status, COALESCE(p_is_final, false), p_ticket_statuses);
        RETURN;
    END IF;

    IF p_status IS NOT NULL THEN
        IF c.status IS NULL OR c.status_at IS NULL THEN
            v_take_status := true;
        ELSIF p_is_final <> c.is_final THEN
            -- A final status always beats a non-final one, whatever their times.
            v_take_status := p_is_final;
        ELSE
            -- Same class: the later created_at wins; equal times break by status text so the result
            -- does not depend on arrival order.
            v_take_status := p_created_at > c.status_at OR (p_created_at = c.status_at AND p_status > c.status);
        END IF;
    END IF;
    v_take_fields := c.fields_at IS NULL OR p_created_at >= c.fields_at;

    SELECT m.vars, m.times INTO v_vars, v_times
    FROM wr_merge_variables(c.variables, c.variable_times, v_body -> 'variables', p_created_at) m;

    UPDATE calls SET
        customer_id    = CASE WHEN v_take_fields THEN COALESCE(p_customer_id, c.customer_id)
                              ELSE COALESCE(c.customer_id, p_customer_id) END,
        application_id = CASE WHEN v_take_fields THEN COALESCE(p_application_id, c.application_id)
                              ELSE COALESCE(c.application_id, p_application_id) END,
        direction      = CASE WHEN v_take_fields THEN COALESCE(p_direction, c.direction) ELSE COALESCE(c.direction, p_direction) END,
        from_number    = CASE WHEN v_take_fields THEN COALESCE(p_from, c.from_number) ELSE COALESCE(c.from_number, p_from) END,
        to_number      = CASE WHEN v_take_fields THEN COALESCE(p_to, c.to_number) ELSE COALESCE(c.to_number, p_to) END,
        fields_at      = GREATEST(c.fields_at, p_created_at),
        status         = CASE WHEN v_take_status THEN p_status ELSE c.status END,
        is_final       = CASE WHEN v_take_status THEN p_is_final ELSE c.is_final END,
        status_at      = CASE WHEN v_take_status THEN p_created_at ELSE c.status_at END,
        first_event_at = LEAST(c.first_event_at, p_created_at),
        last_event_at  = GREATEST(c.last_event_at, p_created_at),
        activity_at    = GREATEST(c.last_event_at, p_created_at),
        variables      = v_vars,
        variable_times = v_times,
        recordings     = wr_append_items(c.recordings, v_data, ARRAY['recordings', 'recording']),
        transcripts    = wr_append_items(c.transcripts, v_data, ARRAY['transcripts', 'transcript']),
        ai_results     = wr_append_items(c.ai_results, v_data, ARRAY['ai_results', 'ai_result', 'ai', 'scoring']),
        billing        = CASE WHEN v_billing IS NOT NULL AND (c.billing_at IS NULL OR p_created_at >= c.billing_at)
                              THEN v_billing ELSE c.billing END,
        billing_at     = CASE WHEN v_billing IS NOT NULL AND (c.billing_at IS NULL OR p_created_at >= c.billing_at)
                              THEN p_created_at ELSE c.billing_at END,
        updated_at     = now()
    WHERE id = p_call_id;

    v_status := CASE WHEN v_take_status THEN p_status ELSE c.status END;
    v_is_final := CASE WHEN v_take_status THEN p_is_final ELSE c.is_final END;
    RETURN QUERY SELECT 'accepted'::text, v_event_id, v_ooo, v_status, v_is_final,
        NOT c.is_final AND v_take_status AND p_is_final,
        wr_record_actions(p_call_id, v_event_id, v_status, v_is_final, p_ticket_statuses);
END
$fn$;
