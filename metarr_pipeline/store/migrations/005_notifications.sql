-- 005: what each media player was (or still has to be) told about a publish. One row per player × movie ×
-- publish; an undelivered row is replaced (its event merged) when the movie is published again.

CREATE SEQUENCE notification_id_seq START 1;

CREATE TABLE notifications (
    id              BIGINT PRIMARY KEY DEFAULT nextval('notification_id_seq'),
    player          VARCHAR NOT NULL,      -- the player's name in the config (players[].name, else its type)
    movie_id        BIGINT NOT NULL,
    event           VARCHAR NOT NULL,      -- created | modified | deleted
    folder          VARCHAR NOT NULL,      -- the movie folder as metarr sees it (mapped at delivery)
    video_file      VARCHAR NOT NULL DEFAULT '',   -- relative to folder
    status          VARCHAR NOT NULL,      -- pending | sent | deferred | failed
    attempts        INTEGER NOT NULL DEFAULT 0,    -- deliveries tried (a deferral is not an attempt)
    detail          VARCHAR NOT NULL DEFAULT '',   -- what the player was told (sent), or why not (failed/deferred)
    queued_at       TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    next_attempt_at TIMESTAMP,             -- when it is due; NULL once sent, or failed for good
    sent_at         TIMESTAMP
);
