-- 009: movie sets (TMDB collections) as their own stage: each set's state, and its artwork candidates scored and
-- selected by the same machinery as a movie's (one winner per type: Kodi reads one file per type in a set folder).

CREATE TABLE collections (
    collection_id   BIGINT PRIMARY KEY,    -- TMDB collection id
    title           VARCHAR NOT NULL,      -- the set's name in the preferred language
    overview        VARCHAR NOT NULL DEFAULT '',
    state_hash      VARCHAR NOT NULL,      -- hash of the candidates and the selection: unchanged → no write
    enriched_at     TIMESTAMP NOT NULL,
    summary_json    VARCHAR NOT NULL DEFAULT '{}'
);

CREATE TABLE collection_artwork (
    collection_id   BIGINT NOT NULL,
    type            VARCHAR NOT NULL,      -- poster | fanart | clearlogo | clearart | banner | landscape | discart
    candidate_id    VARCHAR NOT NULL,      -- stable: derived from provider + original URL (as a movie's)
    provider        VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,      -- the original
    preview_url     VARCHAR NOT NULL,      -- the small rendition analysed (image_analysis, shared with movies)
    language        VARCHAR NOT NULL,      -- ISO 639-1, '' when textless
    width           INTEGER,
    height          INTEGER,
    votes           BIGINT NOT NULL DEFAULT 0,
    vote_average    DOUBLE,
    phash           UBIGINT,
    s_resolution    DOUBLE, s_aspect DOUBLE, s_language DOUBLE, s_community DOUBLE, s_provider DOUBLE,
    score           DOUBLE,
    rank            INTEGER,               -- within set × type, 1 = best
    gate            VARCHAR NOT NULL DEFAULT '',
    duplicate_of    VARCHAR,
    selected_rank   INTEGER,               -- 1 for the type's winner
    blob_sha        VARCHAR,               -- the winner's cached original (keeps its blob from being reclaimed)
    PRIMARY KEY (collection_id, type, candidate_id)
);
