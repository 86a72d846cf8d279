-- 0029_media_duration.sql
-- Why: a video's duration is read from its container before it is stripped (the
-- limit on seconds is checked from it), then thrown away; the analyst triaging a clip
-- wants to know whether it is 3 seconds or 3 minutes before pressing play, and the
-- stripped copy's own header is not read back. Kept in milliseconds beside the other
-- facts read before stripping (gps, taken_local), on the draft's media and the
-- report's. NULL for photos and for a video whose header gave none.
ALTER TABLE media ADD COLUMN duration_ms integer
    CONSTRAINT media_duration_ms_check CHECK (duration_ms IS NULL OR duration_ms >= 0);
ALTER TABLE draft_media ADD COLUMN duration_ms integer
    CONSTRAINT draft_media_duration_ms_check CHECK (duration_ms IS NULL OR duration_ms >= 0);
