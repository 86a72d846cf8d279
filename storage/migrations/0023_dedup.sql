-- 0023_dedup.sql - duplicates: reports folded into an earlier one, photos linked to their
-- near-duplicates, found through an index on the perceptual hash.
--
-- Why: during an attack the same reporter presses "Send" twice and the same photo goes
-- round the channels, resized, recompressed, cropped, screenshotted. A report that
-- repeats its reporter's recent text or photo is folded into the earlier one (folds
-- counts them; its new words become an addendum, its new photos join it), and every
-- photo is linked to the earlier photos within a few bits of its 64-bit perceptual hash
-- (media_links), so an analyst sees one photo's history instead of a copy per row, and
-- an old photo passed off as new is flagged (reports.flags "seen_before").
--
-- The index: multi-index hashing. The hash is cut into five bands (13, 13, 13, 13 and 12
-- bits), each indexed (an expression index on media, so no table of bands to keep in
-- step). Two hashes at most k bits apart differ by at most floor(k/5) bits in one band at
-- least (pigeonhole), so probing each band with every value within floor(k/5) bits of the
-- new hash's band (1, 14 or 92 values for k < 5, 10, 15) finds every candidate, which
-- bit_count(a # b) then checks. Five bands rather than four of 16 bits: at k = 8 a probe
-- of 14 values a band instead of 137, for the same ~60 candidates a value in 500,000
-- hashes (bench/README.md "dedup"). The key carries the hash and id (INCLUDE): candidates
-- are checked on the index alone. phash_inner, the hash of the picture inside a
-- screenshot's frame (media/phash.c), is banded the same way, its indexes holding only
-- the framed photos (partial: a few in a hundred); a new photo's hashes are looked for in
-- both. The whole hash's indexes are not partial, so that ANALYZE keeps statistics on
-- their expressions. A metric tree (a VP or BK tree) would need a structure outside
-- PostgreSQL or a custom index; a linear scan of 500,000 hashes costs ~100 ms
-- (bench/dedup).

ALTER TABLE reports ADD COLUMN folds integer DEFAULT 0 NOT NULL;
ALTER TABLE media ADD COLUMN phash_inner bigint;
ALTER TABLE draft_media ADD COLUMN phash_inner bigint;

CREATE INDEX media_phash_b0 ON media USING btree (((phash & 8191)))
    INCLUDE (phash, id);
CREATE INDEX media_phash_b1 ON media USING btree ((((phash >> 13) & 8191)))
    INCLUDE (phash, id);
CREATE INDEX media_phash_b2 ON media USING btree ((((phash >> 26) & 8191)))
    INCLUDE (phash, id);
CREATE INDEX media_phash_b3 ON media USING btree ((((phash >> 39) & 8191)))
    INCLUDE (phash, id);
CREATE INDEX media_phash_b4 ON media USING btree ((((phash >> 52) & 4095)))
    INCLUDE (phash, id);
CREATE INDEX media_phash_inner_b0 ON media USING btree (((phash_inner & 8191)))
    INCLUDE (phash_inner, id) WHERE phash_inner IS NOT NULL;
CREATE INDEX media_phash_inner_b1 ON media USING btree ((((phash_inner >> 13) & 8191)))
    INCLUDE (phash_inner, id) WHERE phash_inner IS NOT NULL;
CREATE INDEX media_phash_inner_b2 ON media USING btree ((((phash_inner >> 26) & 8191)))
    INCLUDE (phash_inner, id) WHERE phash_inner IS NOT NULL;
CREATE INDEX media_phash_inner_b3 ON media USING btree ((((phash_inner >> 39) & 8191)))
    INCLUDE (phash_inner, id) WHERE phash_inner IS NOT NULL;
CREATE INDEX media_phash_inner_b4 ON media USING btree ((((phash_inner >> 52) & 4095)))
    INCLUDE (phash_inner, id) WHERE phash_inner IS NOT NULL;

-- A photo and an earlier one within dedup_max_distance bits: its closest few and its
-- first sighting (store_apply_plan writes them with the photo).
CREATE TABLE media_links (
    media_id bigint NOT NULL,
    near_media_id bigint NOT NULL,
    distance smallint NOT NULL,
    CONSTRAINT media_links_pkey PRIMARY KEY (media_id, near_media_id),
    CONSTRAINT media_links_distance_check CHECK (distance BETWEEN 0 AND 64),
    CONSTRAINT media_links_media_id_fkey FOREIGN KEY (media_id) REFERENCES media(id)
        ON DELETE CASCADE,
    CONSTRAINT media_links_near_media_id_fkey FOREIGN KEY (near_media_id) REFERENCES media(id)
        ON DELETE CASCADE
);
CREATE INDEX media_links_near ON media_links USING btree (near_media_id);
