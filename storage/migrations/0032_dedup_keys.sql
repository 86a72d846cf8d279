-- 0032_dedup_keys.sql - the near-duplicate index as one table of tagged band values, and
-- the normalised key of a report's text for folding.
--
-- Why media_bands: 0023 indexed five 13-bit bands of each hash (and of phash_inner) with
-- one expression index each, probed within 1 bit: 70 index descents for a whole hash and
-- 70 more for the framed hashes' indexes, ten scans, and ~4,300 candidates checked at
-- 500,000 photos, ~1.2 ms a search, 65x a linear scan (bench/README.md "dedup"). Here a
-- hash is cut into four bands of 18, 16, 15 and 15 bits (media_bands_of.sql), each
-- stored as one row keyed band number << 32 | the band's value, the hash and the photo
-- INCLUDEd: the whole hash and the framed one in the same index, every band in one scan
-- (media_near.sql). Exactness (the generalised pigeonhole principle): when a band i is
-- probed with every value within t_i bits and the t_i + 1 add up to k + 1 or more, two
-- hashes at most k bits apart are within t_i bits in one band i at least, so no match
-- within k bits is missed; media_probes.sql shares k + 1 out over the four bands (at
-- k = 8: 2, 1, 1, 1; the 18-bit band, whose values hold fewest hashes, takes the extra
-- bit): 221 probes and ~950 candidates at 500,000 photos, against 70 probes and ~4,300.
-- media_band_masks holds the probes' bit masks (weight 0 to 3 for the three band widths,
-- enough for k <= 14), read by index rather than built on every search. The rows of the
-- photos stored so far are written here (the band indexes of 0023 never needed it); a
-- trigger keeps them (media_bands_fill.sql).
--
-- Why text_key: a reporter who sends "Танк на Сумській!!" and then "танк на сумській 🔥"
-- meant one report; folding compared the exact text. text_key is the SHA-256 of the text
-- normalised in C (mod_text_fold_key: case folded, blanks collapsed, trailing
-- punctuation and emoji dropped); reports stored before it keep their exact-text match.

CREATE TABLE media_bands (
    band bigint NOT NULL,
    hash bigint NOT NULL,
    media_id bigint NOT NULL,
    CONSTRAINT media_bands_media_id_fkey FOREIGN KEY (media_id) REFERENCES media(id)
        ON DELETE CASCADE
);

INSERT INTO media_bands (band, hash, media_id)
SELECT (b.n::bigint << 32) | ((h.hash >> b.lo) & ((1::bigint << b.w) - 1)), h.hash, h.id
FROM (SELECT id, phash AS hash FROM media WHERE phash IS NOT NULL
      UNION
      SELECT id, phash_inner FROM media WHERE phash_inner IS NOT NULL) h
CROSS JOIN (VALUES (0, 0, 18), (1, 18, 16), (2, 34, 15), (3, 49, 15)) b(n, lo, w);

CREATE INDEX media_bands_band ON media_bands USING btree (band) INCLUDE (hash, media_id);
CREATE INDEX media_bands_media ON media_bands USING btree (media_id);

CREATE TABLE media_band_masks (
    w smallint NOT NULL,
    r smallint NOT NULL,
    mask bigint NOT NULL,
    CONSTRAINT media_band_masks_pkey PRIMARY KEY (w, r, mask)
);

INSERT INTO media_band_masks (w, r, mask)
SELECT w.w, 0, 0 FROM (VALUES (15), (16), (18)) w(w)
UNION ALL
SELECT w.w, 1, 1::bigint << i
FROM (VALUES (15), (16), (18)) w(w), generate_series(0, 17) i WHERE i < w.w
UNION ALL
SELECT w.w, 2, (1::bigint << i) | (1::bigint << j)
FROM (VALUES (15), (16), (18)) w(w), generate_series(0, 17) i, generate_series(0, 17) j
WHERE i < j AND j < w.w
UNION ALL
SELECT w.w, 3, (1::bigint << i) | (1::bigint << j) | (1::bigint << l)
FROM (VALUES (15), (16), (18)) w(w), generate_series(0, 17) i, generate_series(0, 17) j,
    generate_series(0, 17) l
WHERE i < j AND j < l AND l < w.w;

DROP INDEX media_phash_b0;
DROP INDEX media_phash_b1;
DROP INDEX media_phash_b2;
DROP INDEX media_phash_b3;
DROP INDEX media_phash_b4;
DROP INDEX media_phash_inner_b0;
DROP INDEX media_phash_inner_b1;
DROP INDEX media_phash_inner_b2;
DROP INDEX media_phash_inner_b3;
DROP INDEX media_phash_inner_b4;

ALTER TABLE reports ADD COLUMN text_key bytea;
