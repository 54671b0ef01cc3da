-- 003: artwork candidates with their analysis, score parts, rank and selection; user choices and locks;
-- the content-addressed blob store's index; actors; per-movie enrichment state.

CREATE TABLE image_analysis (
    preview_url     VARCHAR PRIMARY KEY,   -- the small rendition that was analysed
    format          VARCHAR NOT NULL DEFAULT '',
    width           INTEGER,
    height          INTEGER,
    phash           UBIGINT,
    error           VARCHAR NOT NULL DEFAULT '',
    analysed_at     TIMESTAMP NOT NULL
);

CREATE TABLE artwork_candidates (
    movie_id        BIGINT NOT NULL,
    type            VARCHAR NOT NULL,      -- poster | fanart | clearlogo | clearart | discart | banner | landscape | keyart
    candidate_id    VARCHAR NOT NULL,      -- stable: derived from provider + original URL
    provider        VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,      -- the original
    preview_url     VARCHAR NOT NULL,      -- the small rendition analysed
    language        VARCHAR NOT NULL,      -- ISO 639-1, '' when textless
    width           INTEGER,               -- best known size of the original
    height          INTEGER,
    votes           BIGINT NOT NULL DEFAULT 0,
    vote_average    DOUBLE,
    phash           UBIGINT,
    s_resolution    DOUBLE, s_aspect DOUBLE, s_language DOUBLE, s_community DOUBLE, s_provider DOUBLE,
    score           DOUBLE,
    rank            INTEGER,               -- within movie × type, 1 = best
    gate            VARCHAR NOT NULL DEFAULT '',   -- why it cannot be selected ('' = eligible)
    duplicate_of    VARCHAR,
    selected_rank   INTEGER,               -- 1..N when selected
    blob_sha        VARCHAR,               -- cached original of a selected candidate
    PRIMARY KEY (movie_id, type, candidate_id)
);

CREATE TABLE artwork_choices (
    movie_id        BIGINT NOT NULL,
    type            VARCHAR NOT NULL,
    candidate_id    VARCHAR NOT NULL,
    action          VARCHAR NOT NULL,      -- pick | reject
    chosen_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (movie_id, type, candidate_id)
);

CREATE TABLE artwork_locks (
    movie_id        BIGINT NOT NULL,
    type            VARCHAR NOT NULL,
    locked_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (movie_id, type)
);

CREATE TABLE blobs (
    sha256          VARCHAR PRIMARY KEY,
    ext             VARCHAR NOT NULL,
    bytes           BIGINT NOT NULL,
    width           INTEGER,
    height          INTEGER,
    format          VARCHAR NOT NULL,
    source_url      VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

CREATE TABLE people (
    person_id       BIGINT PRIMARY KEY,
    name            VARCHAR NOT NULL,
    profile_path    VARCHAR NOT NULL DEFAULT '',
    thumb_url       VARCHAR NOT NULL DEFAULT '',
    blob_sha        VARCHAR,
    error           VARCHAR NOT NULL DEFAULT '',
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE movie_actors (
    movie_id        BIGINT NOT NULL,
    position        INTEGER NOT NULL,      -- billing order, 0 first
    person_id       BIGINT NOT NULL,
    name            VARCHAR NOT NULL,
    role            VARCHAR NOT NULL DEFAULT '',
    PRIMARY KEY (movie_id, position)
);

CREATE TABLE enrichment (
    movie_id            BIGINT PRIMARY KEY,
    state_hash          VARCHAR NOT NULL,  -- hash of candidates + selection + actors: unchanged → no write
    selection_hash      VARCHAR NOT NULL,
    enriched_at         TIMESTAMP NOT NULL,
    selection_changed_at TIMESTAMP NOT NULL,
    config_fingerprint  VARCHAR NOT NULL DEFAULT '',
    summary_json        VARCHAR NOT NULL DEFAULT '{}'
);
