-- Call fields per field: customer_id, application_id, direction, from_number and to_number each keep the
-- created_at of the event whose value they hold (<field>_at), and each is won separately by the newest event
-- that carries it; an event without the field leaves it alone, whatever its time (README "Call records").
-- Replaces 001's wr_ingest_event (same signature, so Data/Sql/ingest_event.call.sql is unchanged); the
-- other functions of 001 and 002 stay as they are. Still ONE statement per event.

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
    v_take_customer boolean;
    v_take_application boolean;
    v_take_direction boolean;
    v_take_from boolean;
    v_take_to boolean;
    v_take_billing boolean;
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
                           status_at, customer_id_at, application_id_at, direction_at, from_number_at, to_number_at,
                           first_event_at, last_event_at, activity_at, variables, variable_times,
                           recordings, transcripts, ai_results, billing, billing_at, created_at, updated_at)
        VALUES (p_call_id, p_customer_id, p_application_id, p_direction, p_from, p_to, p_status, COALESCE(p_is_final, false),
                CASE WHEN p_status IS NOT NULL THEN p_created_at END,
                CASE WHEN p_customer_id IS NOT NULL THEN p_created_at END,
                CASE WHEN p_application_id IS NOT NULL THEN p_created_at END,
                CASE WHEN p_direction IS NOT NULL THEN p_created_at END,
                CASE WHEN p_from IS NOT NULL THEN p_created_at END,
                CASE WHEN p_to IS NOT NULL THEN p_created_at END,
                p_created_at, p_created_at, p_created_at, v_vars, v_times,
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
    -- Each call field separately: the event's value wins when the event carries the field and is at least as new
    -- as the value held (equal times: the later arrival wins, as for variables). A held value with no time came
    -- from POST /calls, and any event that carries the field replaces it.
    v_take_customer    := p_customer_id IS NOT NULL    AND (c.customer_id_at IS NULL    OR p_created_at >= c.customer_id_at);
    v_take_application := p_application_id IS NOT NULL AND (c.application_id_at IS NULL OR p_created_at >= c.application_id_at);
    v_take_direction   := p_direction IS NOT NULL      AND (c.direction_at IS NULL      OR p_created_at >= c.direction_at);
    v_take_from        := p_from IS NOT NULL           AND (c.from_number_at IS NULL    OR p_created_at >= c.from_number_at);
    v_take_to          := p_to IS NOT NULL             AND (c.to_number_at IS NULL      OR p_created_at >= c.to_number_at);
    v_take_billing     := v_billing IS NOT NULL        AND (c.billing_at IS NULL        OR p_created_at >= c.billing_at);

    SELECT m.vars, m.times INTO v_vars, v_times
    FROM wr_merge_variables(c.variables, c.variable_times, v_body -> 'variables', p_created_at) m;

    UPDATE calls SET
        customer_id       = CASE WHEN v_take_customer THEN p_customer_id ELSE c.customer_id END,
        customer_id_at    = CASE WHEN v_take_customer THEN p_created_at ELSE c.customer_id_at END,
        application_id    = CASE WHEN v_take_application THEN p_application_id ELSE c.application_id END,
        application_id_at = CASE WHEN v_take_application THEN p_created_at ELSE c.application_id_at END,
        direction         = CASE WHEN v_take_direction THEN p_direction ELSE c.direction END,
        direction_at      = CASE WHEN v_take_direction THEN p_created_at ELSE c.direction_at END,
        from_number       = CASE WHEN v_take_from THEN p_from ELSE c.from_number END,
        from_number_at    = CASE WHEN v_take_from THEN p_created_at ELSE c.from_number_at END,
        to_number         = CASE WHEN v_take_to THEN p_to ELSE c.to_number END,
        to_number_at      = CASE WHEN v_take_to THEN p_created_at ELSE c.to_number_at END,
        status            = CASE WHEN v_take_status THEN p_status ELSE c.status END,
        is_final          = CASE WHEN v_take_status THEN p_is_final ELSE c.is_final END,
        status_at         = CASE WHEN v_take_status THEN p_created_at ELSE c.status_at END,
        first_event_at    = LEAST(c.first_event_at, p_created_at),
        last_event_at     = GREATEST(c.last_event_at, p_created_at),
        activity_at       = GREATEST(c.last_event_at, p_created_at),
        variables         = v_vars,
        variable_times    = v_times,
        recordings        = wr_append_items(c.recordings, v_data, ARRAY['recordings', 'recording']),
        transcripts       = wr_append_items(c.transcripts, v_data, ARRAY['transcripts', 'transcript']),
        ai_results        = wr_append_items(c.ai_results, v_data, ARRAY['ai_results', 'ai_result', 'ai', 'scoring']),
        billing           = CASE WHEN v_take_billing THEN v_billing ELSE c.billing END,
        billing_at        = CASE WHEN v_take_billing THEN p_created_at ELSE c.billing_at END,
        updated_at        = now()
    WHERE id = p_call_id;

    v_status := CASE WHEN v_take_status THEN p_status ELSE c.status END;
    v_is_final := CASE WHEN v_take_status THEN p_is_final ELSE c.is_final END;
    RETURN QUERY SELECT 'accepted'::text, v_event_id, v_ooo, v_status, v_is_final,
        NOT c.is_final AND v_take_status AND p_is_final,
        wr_record_actions(p_call_id, v_event_id, v_status, v_is_final, p_ticket_statuses);
END
$fn$;
