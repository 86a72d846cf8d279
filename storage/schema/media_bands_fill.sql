-- media_bands_fill.sql
-- A photo's rows in media_bands (the near-duplicate index, migration 0032): the bands of
-- its hash and of the picture inside its frame (phash_inner), written when the photo is
-- stored and rewritten when a hash changes, whichever statement stores it.
CREATE OR REPLACE FUNCTION media_bands_fill()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM media_bands WHERE media_id = OLD.id;
    END IF;
    INSERT INTO media_bands (band, hash, media_id)
    SELECT b.key, h.hash, NEW.id
    FROM (SELECT NEW.phash AS hash WHERE NEW.phash IS NOT NULL
          UNION
          SELECT NEW.phash_inner WHERE NEW.phash_inner IS NOT NULL) h
    CROSS JOIN LATERAL media_bands_of(h.hash) b;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS media_bands_fill ON media;
CREATE TRIGGER media_bands_fill AFTER INSERT ON media
    FOR EACH ROW WHEN (NEW.phash IS NOT NULL OR NEW.phash_inner IS NOT NULL)
    EXECUTE FUNCTION media_bands_fill();
DROP TRIGGER IF EXISTS media_bands_refill ON media;
CREATE TRIGGER media_bands_refill AFTER UPDATE OF phash, phash_inner ON media
    FOR EACH ROW WHEN (OLD.phash IS DISTINCT FROM NEW.phash
                       OR OLD.phash_inner IS DISTINCT FROM NEW.phash_inner)
    EXECUTE FUNCTION media_bands_fill();
