-- store_apply_plan.sql
-- The one write path: what the handlers decided for a batch of 1..N updates, as one
-- document with named fields (storage/store_plan.c encodes it), written in the
-- statement's transaction, or in the caller's when one is open (the conversation's).
--
-- p = {"u": [update...], "o": [outbox row...], "m": [report photo...],
--      "d": [draft photo...], "s": [[first k, last k, ops]...], "nid": updates with an id}
-- An update (k = 1..N, in order): id (inbox update_id, 0 none), chat, ps (pseudonym),
-- lang, bl (blocked flag, absent: keep), the report (ref, rep, cat, txt, lat, lon, src,
-- acc, brg, obs, sent, fwd, mg, pri, fl), fu and ans (an answer to a follow-up), and
-- the conversation: cc (its chat), dop (draft: 1 put, 2 delete), dj (the draft's state;
-- djs: the same as a string when the caller's text is not an object; left out of a
-- put that a later put of the same chat in the segment supersedes),
-- did (draft id), idle (minutes), um (the citizen's message), nt (notice), ar, at, arp
-- (an addendum: report ref, text, reporter); from the relay (no inbox row): rq (a
-- follow-up relayed), rqs (its message queued), rqe (why not), rv (a report whose
-- reviewed notice went). Rows of "o", "m" and "d" name their update by k and their
-- order by n; a reply's params are in pj (params: as a string), fu its follow-up.
--
-- Contracts kept here:
-- - An update whose inbox row is processed already writes nothing (a redelivered or
--   re-run update is a no-op); its inbox row is locked while unprocessed, so a second
--   worker running the same update waits, then finds it processed. An update_id that
--   is not in the inbox at all fails the batch (SQLSTATE P0002).
-- - All effects of the batch commit together or not at all: one statement.
-- - Effects apply in update order. The batch is cut by the encoder into segments: a run
--   of updates whose effects commute (replies, tracked messages, draft puts, photos
--   added to a draft, notices, addenda, answers, the chat's rows) is written with one
--   statement for the common effects and one per rarer table; an update that creates a
--   report or deletes the draft (what the later updates of the batch must see done) is
--   a segment of its own. "ops" says which statements a segment needs (bits below).
-- - Nothing about the reporter beyond what the update carries: the pseudonym, the
--   chat's language and blocked flag.
-- - Plans: generic (planning the statements below costs more than running them), and
--   built once per connection, whatever size the tables had then. Every statement here
--   reaches its rows by key, so scans of whole tables or partial indexes are turned off:
--   a plan built while the inbox held a few rows marked a batch's rows by reading every
--   unprocessed row of the inbox (18,000 a call during the intake bench's burst).
CREATE OR REPLACE FUNCTION store_apply_plan(p jsonb)
RETURNS TABLE (out_k int, out_report bigint, out_unattached boolean)
-- The settings hold for everything called from here too (incident_join, the reports'
-- triggers), whose small tables can only be scanned whole: the disabled scan's cost
-- passes JIT's thresholds, and compiling cost 50-130 ms a statement (a report stored in
-- 0.3 s), so JIT is off as well: nothing here runs long enough to gain from it.
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
    SET enable_bitmapscan = off SET jit = off AS $$
#variable_conflict use_column
DECLARE
    live bigint[] := '{}';
    marked bigint[];
    at_start boolean := true;
    missing bigint;
    i int;
    seg jsonb;
    lo int;
    hi int;
    ops int;
    uo jsonb;
    rid bigint;
    rids bigint[] := '{}';
    unatt int[] := '{}';
    a record;
BEGIN
    -- between the statements only plain expressions: each statement costs its executor
    -- start, so the common batch (replies, tracked messages, draft puts, the chat's rows)
    -- is one statement
    FOR i IN 0 .. jsonb_array_length(p->'s') - 1 LOOP
        seg := p->'s'->i;
        lo := (seg->>0)::int;
        hi := (seg->>1)::int;
        ops := (seg->>2)::int;
        uo := p->'u'->(lo - 1);

        -- 1 replies, 2 tracked messages, 4 draft put, 128 the reporter's and the chat's
        -- rows; the first time, with the inbox rows of the whole batch marked (the
        -- update locks them: a second worker running the same updates waits here, then
        -- finds them processed and writes nothing). The replies take their ids from the
        -- sequence first, so the draft's messages and its keyboard message ("po", kept
        -- by storage: the decision never writes it) can name them. The chats and
        -- reporters rows are rewritten only when something changes or last_seen is a
        -- minute old (most updates then write no new row version).
        IF at_start OR ops & 135 <> 0 THEN
            WITH m AS (UPDATE inbox SET processed_at = now()
                       WHERE at_start AND update_id = ANY (ARRAY(
                           SELECT x.id FROM jsonb_to_recordset(p->'u') AS x(id bigint)
                           WHERE x.id <> 0))
                         AND processed_at IS NULL RETURNING update_id),
                 u AS (SELECT * FROM jsonb_to_recordset(p->'u')
                         AS u(k int, id bigint, chat bigint, ps text, lang text, ref text,
                              rep text, cc bigint, dop int, dj jsonb, djs text, did bigint,
                              idle int,
                              um bigint)
                       WHERE u.k BETWEEN lo AND hi AND (u.id = 0 OR u.id = ANY (live)
                         OR u.id IN (SELECT m.update_id FROM m))),
                 ids AS (SELECT nextval('outbox_id_seq') AS id, o.*
                         FROM (SELECT o.*, COALESCE(u.did, 0) AS did, u.dop
                               FROM jsonb_to_recordset(p->'o')
                                 AS o(k int, n int, chat bigint, method text, pj jsonb,
                                      params text, pr boolean, tr boolean, fu bigint)
                               JOIN u ON u.k = o.k ORDER BY o.n) o),
                 ob AS (INSERT INTO outbox (id, chat_id, method, params, followup_id)
                        SELECT ids.id, ids.chat, ids.method,
                            COALESCE(ids.pj, ids.params::jsonb), ids.fu FROM ids
                        ORDER BY ids.n),
                 cm AS (INSERT INTO conv_messages (chat_id, draft_id, outbox_id, message_id)
                        SELECT x.chat_id, x.did, x.oid, x.mid FROM (
                            SELECT ids.k, ids.n, ids.chat AS chat_id, ids.did, ids.id AS oid,
                                NULL::bigint AS mid
                            FROM ids WHERE ids.tr AND ids.did <> 0
                            UNION ALL
                            SELECT u.k, NULL, u.cc, u.did, NULL, u.um FROM u
                            WHERE u.um IS NOT NULL AND u.did <> 0) x
                        ORDER BY x.k, x.mid IS NOT NULL, x.n),
                 dr AS (INSERT INTO drafts AS d (chat_id, state, updated_at, expires_at)
                        SELECT lp.cc, COALESCE(lp.dj, lp.djs::jsonb) || COALESCE(
                                (SELECT jsonb_build_object('po', ids.id) FROM ids
                                 WHERE ids.pr AND ids.dop = 1 ORDER BY ids.n DESC LIMIT 1),
                                '{}'::jsonb),
                            now(), now() + make_interval(mins => lp.idle)
                        FROM (SELECT DISTINCT ON (u.cc) u.* FROM u
                              WHERE u.dop = 1 AND (u.dj IS NOT NULL OR u.djs IS NOT NULL)
                              ORDER BY u.cc, u.k DESC) lp
                        ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state ||
                            CASE WHEN NOT excluded.state ? 'po' AND d.state ? 'po'
                                THEN jsonb_build_object('po', d.state->'po')
                                ELSE '{}'::jsonb END,
                            updated_at = now(), expires_at = excluded.expires_at,
                            reminded_at = NULL),
                 rp AS (INSERT INTO reporters AS r (pseudonym, n_reports)
                        SELECT v.p, sum(v.c)::int FROM (SELECT u.ps AS p, 0 AS c FROM u
                            UNION ALL SELECT u.rep, 1 FROM u WHERE u.ref IS NOT NULL) v
                        WHERE v.p IS NOT NULL GROUP BY v.p
                        ON CONFLICT (pseudonym) DO UPDATE SET last_seen = now(),
                            n_reports = r.n_reports + excluded.n_reports
                        WHERE excluded.n_reports > 0
                           OR r.last_seen < now() - interval '1 minute'),
                 ch AS (INSERT INTO chats AS c (chat_id, reporter, lang)
                        SELECT u.chat,
                            (array_agg(u.ps ORDER BY u.k DESC)
                                FILTER (WHERE u.ps IS NOT NULL))[1],
                            (array_agg(u.lang ORDER BY u.k DESC)
                                FILTER (WHERE u.lang IS NOT NULL))[1]
                        FROM u WHERE u.chat <> 0 GROUP BY u.chat
                        ON CONFLICT (chat_id) DO UPDATE SET
                            reporter = COALESCE(excluded.reporter, c.reporter),
                            lang = COALESCE(excluded.lang, c.lang), last_seen = now()
                        WHERE c.last_seen < now() - interval '1 minute'
                           OR c.reporter IS DISTINCT FROM COALESCE(excluded.reporter, c.reporter)
                           OR c.lang IS DISTINCT FROM COALESCE(excluded.lang, c.lang))
            SELECT COALESCE(array_agg(m.update_id), '{}') INTO marked FROM m;
            IF at_start THEN
                live := marked;
                at_start := false;
                IF cardinality(live) < (p->>'nid')::int THEN
                    SELECT x.id INTO missing FROM jsonb_to_recordset(p->'u') AS x(id bigint)
                    WHERE x.id <> 0
                      AND NOT EXISTS (SELECT 1 FROM inbox ib WHERE ib.update_id = x.id)
                    LIMIT 1;
                    IF missing IS NOT NULL THEN
                        RAISE EXCEPTION 'no inbox row for update_id %', missing
                            USING ERRCODE = 'P0002';
                    END IF;
                END IF;
            END IF;
        END IF;
        IF ops & ~135 = 0 THEN
            CONTINUE; /* the common effects only: written above */
        END IF;
        IF lo = hi AND (uo->>'id')::bigint <> 0 AND NOT (uo->>'id')::bigint = ANY (live) THEN
            CONTINUE; /* handled before */
        END IF;

        -- 512: answers to analysts' follow-ups, appended in order (a second reply too,
        -- up to 20,000 characters)
        IF ops & 512 <> 0 THEN
            FOR a IN SELECT u.k, u.fu, u.ans
                     FROM jsonb_to_recordset(p->'u') AS u(k int, id bigint, fu bigint, ans text)
                     WHERE u.k BETWEEN lo AND hi AND u.fu IS NOT NULL
                       AND (u.id = 0 OR u.id = ANY (live)) ORDER BY u.k LOOP
                UPDATE followups f SET answer = CASE WHEN f.answer IS NULL THEN a.ans
                        ELSE f.answer || E'\n---\n' || a.ans END,
                    answered_at = now()
                WHERE f.id = a.fu AND COALESCE(length(f.answer), 0) < 20000;
                IF NOT FOUND THEN
                    unatt := unatt || a.k;
                END IF;
            END LOOP;
        END IF;

        -- 8 (a segment of its own): the draft deleted; a sent draft's photos stay for the
        -- report, a cancelled one's go with it
        IF ops & 8 <> 0 THEN
            DELETE FROM drafts WHERE chat_id = (uo->>'cc')::bigint;
            IF NOT uo ? 'ref' THEN
                DELETE FROM draft_media WHERE chat_id = (uo->>'cc')::bigint;
            END IF;
        END IF;

        -- 16: a group or channel told once that the bot is private-only
        IF ops & 16 <> 0 THEN
            INSERT INTO conv_notices (chat_id)
            SELECT DISTINCT u.cc FROM jsonb_to_recordset(p->'u') AS u(k int, id bigint, cc bigint,
                                                                       nt boolean)
            WHERE u.k BETWEEN lo AND hi AND u.nt AND (u.id = 0 OR u.id = ANY (live))
            ON CONFLICT (chat_id) DO NOTHING;
        END IF;

        -- 32: an edit after sending, attached to the reporter's own report
        IF ops & 32 <> 0 THEN
            INSERT INTO report_addenda (report_id, text)
            SELECT r.id, u.at
            FROM jsonb_to_recordset(p->'u') AS u(k int, id bigint, ar text, at text, arp text)
            JOIN reports r ON r.public_ref = u.ar AND r.reporter = u.arp
            WHERE u.k BETWEEN lo AND hi AND (u.id = 0 OR u.id = ANY (live)) ORDER BY u.k;
        END IF;

        -- 64: sanitized photos added to the draft
        IF ops & 64 <> 0 THEN
            INSERT INTO draft_media (chat_id, draft_id, kind, tg_file_id, tg_file_unique_id, mime,
                bytes, size, width, height, phash, gps, gps_accuracy_m, taken_local,
                taken_offset_min, duration_ms)
            SELECT u.cc, u.did, m.kind, m.fid, m.fuid, m.mime, decode(m.b, 'hex'), m.size, m.w,
                m.h, m.ph, CASE WHEN m.lat IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326)::geography END,
                m.acc, m.tl, m.toff, m.dur
            FROM jsonb_to_recordset(p->'d')
                AS m(k int, n int, kind text, fid text, fuid text, mime text, b text, size bigint,
                     w int, h int, ph bigint, lat float8, lon float8, acc float8, tl timestamp,
                     toff int, dur int)
            JOIN jsonb_to_recordset(p->'u') AS u(k int, id bigint, cc bigint, did bigint)
              ON u.k = m.k
            WHERE u.k BETWEEN lo AND hi AND (u.id = 0 OR u.id = ANY (live)) ORDER BY m.n;
        END IF;

        -- 65536: an analyst's question relayed (its message, if any, among the replies) or
        -- not relayable (the reason); 131072: a decided report's reviewed notice
        IF ops & 65536 <> 0 THEN
            UPDATE followups f SET relayed_at = CASE WHEN u.rqs THEN now() END,
                relay_error = u.rqe
            FROM jsonb_to_recordset(p->'u') AS u(k int, rq bigint, rqs boolean, rqe text)
            WHERE u.k BETWEEN lo AND hi AND f.id = u.rq;
        END IF;
        IF ops & 131072 <> 0 THEN
            UPDATE reports r SET reviewed_notified_at = now()
            FROM jsonb_to_recordset(p->'u') AS u(k int, rv bigint)
            WHERE u.k BETWEEN lo AND hi AND r.id = u.rv;
        END IF;

        -- 1024: the chat blocked or unblocked the bot (the last word of the segment)
        IF ops & 1024 <> 0 THEN
            UPDATE chats c SET blocked = b.bl, last_seen = now()
            FROM (SELECT DISTINCT ON (u.chat) u.chat, u.bl
                  FROM jsonb_to_recordset(p->'u') AS u(k int, id bigint, chat bigint, bl boolean)
                  WHERE u.k BETWEEN lo AND hi AND u.bl IS NOT NULL AND u.chat <> 0
                    AND (u.id = 0 OR u.id = ANY (live))
                  ORDER BY u.chat, u.k DESC) b
            WHERE c.chat_id = b.chat AND c.blocked <> b.bl;
        END IF;

        -- 256 (a segment of its own): the report, its photos, and a sent draft's photos
        -- and messages moved onto it
        IF ops & 256 <> 0 THEN
            INSERT INTO reports (public_ref, reporter, category, text, point, point_source,
                accuracy_m, bearing, observed_at, sent_at, forwarded, media_group_id, priority,
                flags, place_candidates)
            SELECT x.ref, x.rep, x.cat, x.txt,
                CASE WHEN x.lat IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326)::geography END,
                x.src, x.acc, x.brg, to_timestamp(x.obs), to_timestamp(x.sent),
                COALESCE(x.fwd, false), x.mg, COALESCE(x.pri, 0),
                COALESCE(string_to_array(x.fl, ','), '{}'), x.pc::jsonb
            FROM jsonb_to_record(uo) AS x(ref text, rep text, cat text, txt text, lat float8,
                lon float8, src text, acc float8, brg float8, obs float8, sent float8,
                fwd boolean, mg text, pri int, fl text, pc text)
            RETURNING id INTO rid;
        END IF;
        -- 2048: the report's own photos
        IF ops & 2048 <> 0 THEN
            INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id, mime, bytes, size,
                width, height, phash, sha256, gps, gps_accuracy_m, taken_local, taken_offset_min,
                duration_ms)
            SELECT rid, m.kind, m.fid, m.fuid, m.mime, decode(m.b, 'hex'), m.size, m.w, m.h,
                m.ph, m.sha, CASE WHEN m.lat IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326)::geography END,
                m.acc, m.tl, m.toff, m.dur
            FROM jsonb_to_recordset(p->'m')
                AS m(k int, n int, kind text, fid text, fuid text, mime text, b text, size bigint,
                     w int, h int, ph bigint, sha text, lat float8, lon float8, acc float8,
                     tl timestamp, toff int, dur int)
            WHERE m.k = lo ORDER BY m.n;
        END IF;
        IF ops & 256 <> 0 THEN
            IF COALESCE((uo->>'did')::bigint, 0) <> 0 THEN
                WITH dm AS (DELETE FROM draft_media WHERE chat_id = (uo->>'cc')::bigint
                              AND draft_id = (uo->>'did')::bigint RETURNING *),
                     med AS (INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id,
                                 mime, bytes, size, width, height, phash, sha256, gps,
                                 gps_accuracy_m, taken_local, taken_offset_min, duration_ms)
                             SELECT rid, dm.kind, dm.tg_file_id, dm.tg_file_unique_id, dm.mime,
                                 dm.bytes, dm.size, dm.width, dm.height, dm.phash,
                                 encode(sha256(COALESCE(dm.bytes, ''::bytea)), 'hex'), dm.gps,
                                 dm.gps_accuracy_m, dm.taken_local, dm.taken_offset_min,
                                 dm.duration_ms
                             FROM dm ORDER BY dm.id)
                UPDATE conv_messages SET report_id = rid
                WHERE chat_id = (uo->>'cc')::bigint AND draft_id = (uo->>'did')::bigint;
            END IF;
            -- the report joins its incident in this transaction (incident_join.sql)
            PERFORM incident_join(rid);
            rids[lo] := rid;
        END IF;
    END LOOP;

    FOR i IN 1 .. jsonb_array_length(p->'u') LOOP
        out_k := i;
        out_report := rids[i];
        out_unattached := i = ANY (unatt);
        RETURN NEXT;
    END LOOP;
END
$$;
