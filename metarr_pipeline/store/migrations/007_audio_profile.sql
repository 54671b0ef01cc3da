-- 007: an audio stream's profile as FFmpeg names it ("DTS-HD MA", "DTS-HD HRA", "DTS", "LC" ...): Kodi names
-- DTS by it (dtshd_ma, dtshd_hra, dca). Movies whose stored probe has a DTS stream lost that profile, so their
-- probe key is cleared: the next scan probes them again.
ALTER TABLE streams ADD COLUMN profile VARCHAR DEFAULT '';
UPDATE movies SET probe_key = '' WHERE id IN (SELECT movie_id FROM streams WHERE kind = 'audio' AND codec = 'dts');
