-- 002: raw provider responses (the provider cache) and each movie's merged metadata.

CREATE TABLE provider_responses (
    provider        VARCHAR NOT NULL,      -- tmdb_movie | tmdb_collection | fanart_movie
    item_key        VARCHAR NOT NULL,      -- e.g. "603:en" (id:language) or "603"
    fetched_at      TIMESTAMP NOT NULL,
    status          INTEGER NOT NULL,      -- 200, or 404 for "fanart.tv has no art for this movie"
    body            VARCHAR,               -- the raw JSON text as received
    PRIMARY KEY (provider, item_key)
);

CREATE TABLE movie_metadata (
    movie_id        BIGINT PRIMARY KEY,
    fields_json     VARCHAR NOT NULL DEFAULT '{}',  -- merged fields (metarr_pipeline.metadata.fields.FIELDS)
    decisions_json  VARCHAR NOT NULL DEFAULT '{}',  -- per field: locked | set | kept | updated | unchanged | empty
    tmdb_id         BIGINT,                -- the id TMDB answered with (differs after a redirect)
    fetched_at      TIMESTAMP,             -- when the provider data in use was fetched
    merged_at       TIMESTAMP,
    fetch_error     VARCHAR NOT NULL DEFAULT '',   -- last failure, kept until a fetch succeeds
    failed_at       TIMESTAMP
);
