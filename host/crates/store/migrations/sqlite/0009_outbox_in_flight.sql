-- Narrowing the send crash window: an SMTP attempt is marked in flight
-- before it starts, so a worker that takes the entry over after a crash
-- knows the earlier attempt's outcome was never recorded (and may look in
-- Sent for it); a message sent again after such an attempt is flagged as
-- a possible duplicate. Keep in step with ../postgres/0009_outbox_in_flight.sql.
-- When the running SMTP attempt began; NULL when none is running.
ALTER TABLE outbox ADD COLUMN in_flight_since INTEGER;
-- When an earlier attempt began whose outcome is unknown (its worker died);
-- NULL once the entry is sent.
ALTER TABLE outbox ADD COLUMN interrupted_attempt_at INTEGER;
-- Sent again after an interrupted attempt that may have gone out too.
ALTER TABLE outbox ADD COLUMN possible_duplicate INTEGER NOT NULL DEFAULT 0;
-- An entry caught mid-send by this upgrade was in flight since its last change.
UPDATE outbox SET in_flight_since = updated_at WHERE state = 'sending';
