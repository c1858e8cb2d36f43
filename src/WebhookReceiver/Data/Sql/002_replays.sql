-- The one-ticket-per-call index now leaves operator replays out (replay_of IS NULL), so the ingest's
-- ON CONFLICT must name the same predicate to infer it. Otherwise as in 001.
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
        ON CONFLICT (call_id) WHERE action = 'ticket.create' AND replay_of IS NULL DO NOTHING;
        IF FOUND THEN
            v_created := v_created + 1;
        END IF;
    END IF;
    RETURN v_created;
END
$fn$;
