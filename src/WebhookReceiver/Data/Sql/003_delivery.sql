-- Destinations (README "Destinations"): one row each, shared by every process on the database. Pause, circuit
-- breaker, Retry-After hold and the token bucket of the rate limit are columns, changed only by guarded statements
-- (Delivery/Destinations/DestinationGate.cs).
CREATE TABLE delivery_destinations (
    name                 text PRIMARY KEY,
    paused               boolean     NOT NULL DEFAULT false,
    paused_by            text,
    paused_at            timestamptz,
    state                text        NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half-open')),
    consecutive_failures integer     NOT NULL DEFAULT 0,
    open_seconds         integer     NOT NULL DEFAULT 0,
    open_until           timestamptz,
    hold_until           timestamptz,
    tokens               float8      NOT NULL DEFAULT 1,
    refilled_at          timestamptz NOT NULL DEFAULT now(),
    last_error           text,
    last_error_at        timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- The concurrency cap: slot n of a destination is one request lane, leased by the batch that sends on it. A lane
-- whose lease ran out (its process died) is free again, so the cap never leaks.
CREATE TABLE delivery_slots (
    destination text    NOT NULL,
    slot        integer NOT NULL,
    lease_owner uuid,
    lease_until timestamptz,
    PRIMARY KEY (destination, slot)
);

-- At most one alert per destination and kind per Alerts:MinIntervalMinutes, whichever process notices.
CREATE TABLE delivery_alerts (
    destination  text        NOT NULL,
    kind         text        NOT NULL,
    last_sent_at timestamptz NOT NULL,
    PRIMARY KEY (destination, kind)
);
