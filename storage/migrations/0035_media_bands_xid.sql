-- 0035_media_bands_xid.sql - the transaction that wrote each media_bands row, so that a
-- near-duplicate search can be split at a snapshot.
--
-- Why: the bot keeps the stored hashes in memory (media/mih.c), complete up to a
-- snapshot S taken by the statement that read them (daemon/near.c); a photo's
-- candidates found there are rechecked in the storing transaction, and the rows S does
-- not see (ins_xid >= pg_snapshot_xmin(S) and not pg_visible_in_snapshot) are read by
-- this index (media_near_seen.sql). Every row is either visible in S (in memory) or not
-- (read here), so the split misses nothing. The rows already stored get 0, older than
-- every snapshot's xmin: visible to all. Only band 0's rows are indexed: each stored
-- hash has exactly one.
ALTER TABLE media_bands ADD COLUMN ins_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE media_bands ALTER COLUMN ins_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX media_bands_recent ON media_bands USING btree (ins_xid) WHERE band < 4294967296;
