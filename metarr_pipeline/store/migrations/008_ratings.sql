-- 008: ratings from sources other than TMDB: the IMDb ratings dataset, loaded whole, and providers' daily usage.

CREATE TABLE imdb_ratings (
    imdb_id         VARCHAR PRIMARY KEY,   -- tconst, "tt0133093"
    rating          DOUBLE NOT NULL,       -- averageRating, 1..10
    votes           BIGINT NOT NULL        -- numVotes
);

CREATE TABLE dataset_loads (
    dataset         VARCHAR PRIMARY KEY,   -- imdb_ratings
    loaded_at       TIMESTAMP NOT NULL,
    origin          VARCHAR NOT NULL,      -- the URL (redacted) or file it was loaded from
    row_count       BIGINT NOT NULL
);

CREATE TABLE provider_usage (
    provider        VARCHAR NOT NULL,      -- omdb
    day             DATE NOT NULL,         -- the day (run's clock) the requests were made
    requests        BIGINT NOT NULL,
    PRIMARY KEY (provider, day)
);
