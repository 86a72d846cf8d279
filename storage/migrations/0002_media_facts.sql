-- 0002: the facts media/ reads from a photo before it strips it. The original bytes
-- never persist (contract 4); what analysts need of them does, on the media row:
-- where the camera says it was (kept beside the report's own point, so a photo taken
-- far from the shared location can be flagged and compared), and when, in the camera's
-- local time with its UTC offset when the camera wrote one.
ALTER TABLE media
    ADD COLUMN gps              geography(Point, 4326),
    ADD COLUMN gps_accuracy_m   double precision CHECK (gps_accuracy_m IS NULL OR gps_accuracy_m >= 0),
    ADD COLUMN taken_local      timestamp without time zone,
    ADD COLUMN taken_offset_min integer CHECK (taken_offset_min BETWEEN -1080 AND 1080);
CREATE INDEX media_gps ON media USING gist (gps) WHERE gps IS NOT NULL;
