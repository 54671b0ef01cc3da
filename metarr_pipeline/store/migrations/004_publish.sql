-- 004: every file the pipeline writes into a movie folder, the publish log, and backups of users' NFOs.

CREATE TABLE library_files (
    movie_id        BIGINT NOT NULL,
    path            VARCHAR NOT NULL,      -- relative to the movie folder
    role            VARCHAR NOT NULL,      -- nfo | art | actor | extrafanart
    sha256          VARCHAR NOT NULL,      -- content we wrote (or are about to write: recorded first)
    bytes           BIGINT NOT NULL,
    mtime_ns        BIGINT,                -- after our write; NULL while the write is pending
    written_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (movie_id, path)
);

CREATE TABLE publish_log (
    movie_id        BIGINT NOT NULL,
    published_at    TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,      -- published | failed
    written         INTEGER NOT NULL DEFAULT 0,
    unchanged       INTEGER NOT NULL DEFAULT 0,
    removed         INTEGER NOT NULL DEFAULT 0,
    nfo_sha256      VARCHAR NOT NULL DEFAULT '',
    warnings_json   VARCHAR NOT NULL DEFAULT '[]',
    changes_json    VARCHAR NOT NULL DEFAULT '{}',
    error           VARCHAR NOT NULL DEFAULT ''
);

CREATE TABLE nfo_backups (
    movie_id        BIGINT NOT NULL,
    path            VARCHAR NOT NULL,      -- the user's NFO we replaced, relative to the movie folder
    sha256          VARCHAR NOT NULL,      -- its bytes, kept in the blob store
    saved_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (movie_id, path, sha256)
);
