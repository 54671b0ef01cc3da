-- 006: the config fingerprint a publish ran under, so a config change marks exactly those movies stale.
ALTER TABLE publish_log ADD COLUMN config_fingerprint VARCHAR DEFAULT '';
