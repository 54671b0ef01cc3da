-- 001: libraries, movies (one row per movie folder, kept forever with its history), probed streams,
-- and a log of scans. Later stages add their tables in later migrations.

CREATE SEQUENCE movie_id_seq START 1;

CREATE TABLE movies (
    id              BIGINT PRIMARY KEY DEFAULT nextval('movie_id_seq'),
    library_root    VARCHAR NOT NULL,
    folder          VARCHAR NOT NULL,      -- absolute path of the movie folder (display-safe text)
    kind            VARCHAR NOT NULL,      -- file | dvd | dvd_flat | bluray
    video_file      VARCHAR,               -- main video, relative to folder (VIDEO_TS/VTS_01_1.VOB for DVDs)
    basename        VARCHAR,               -- video file name without extension; '' for disc structures
    video_size      BIGINT,
    video_mtime_ns  BIGINT,
    status          VARCHAR NOT NULL,      -- identified | unidentified | invalid
    reason          VARCHAR NOT NULL DEFAULT '',   -- why unidentified / invalid
    warnings        VARCHAR[] NOT NULL DEFAULT [],
    tmdb_id         BIGINT,
    imdb_id         VARCHAR,
    id_source       VARCHAR NOT NULL DEFAULT '',   -- nfo | name | search
    title           VARCHAR NOT NULL DEFAULT '',   -- from the NFO or the folder name until enrichment
    year            INTEGER,
    partition_key   VARCHAR,               -- fixed at first identification, never recomputed
    nfo_file        VARCHAR NOT NULL DEFAULT '',   -- existing NFO read (relative to folder)
    nfo_json        VARCHAR NOT NULL DEFAULT '{}', -- user state, ids, locks and foreign tags read from it
    lockdata        BOOLEAN NOT NULL DEFAULT false,
    locked_fields   VARCHAR[] NOT NULL DEFAULT [],
    probe_key       VARCHAR NOT NULL DEFAULT '',   -- video_file|size|mtime_ns of the probe stored in streams
    probe_error     VARCHAR NOT NULL DEFAULT '',
    manual          BOOLEAN NOT NULL DEFAULT false, -- the user publishes this movie by hand only
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    changed_at      TIMESTAMP NOT NULL,    -- last time the scan saw the movie's files change
    gone_at         TIMESTAMP              -- set when the folder disappeared; the row is kept
);

CREATE TABLE streams (
    movie_id        BIGINT NOT NULL,
    kind            VARCHAR NOT NULL,      -- video | audio | subtitle
    position        INTEGER NOT NULL,      -- order within kind
    codec           VARCHAR NOT NULL DEFAULT '',
    width           INTEGER,
    height          INTEGER,
    aspect          DOUBLE,
    duration_s      INTEGER,
    hdr_type        VARCHAR NOT NULL DEFAULT '',
    stereo_mode     VARCHAR NOT NULL DEFAULT '',
    channels        INTEGER,
    language        VARCHAR NOT NULL DEFAULT '',
    forced          BOOLEAN NOT NULL DEFAULT false,
    external        BOOLEAN NOT NULL DEFAULT false,
    path            VARCHAR NOT NULL DEFAULT '',
    container       VARCHAR NOT NULL DEFAULT ''
);

CREATE TABLE scan_runs (
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    roots           VARCHAR[] NOT NULL,
    summary_json    VARCHAR NOT NULL
);
