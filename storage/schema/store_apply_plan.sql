-- store_apply_plan.sql
-- The one write path: what the handlers decided for a batch of 1..N updates, as one
-- document with named fields (storage/store_plan.c encodes it), written in the
-- statement's transaction, or in the caller's when one is open (the conversation's).
--
-- p = {"u": [update...], "o": [outbox row...], "m": [report photo...],
--      "d": [draft photo...], "s": [[first k, last k, ops]...], "nid": updates with an id}
-- An update (k = 1..N, in order): id (inbox update_id, 0 none), chat, ps (pseudonym),
-- lang, bl (blocked flag, absent: keep), the report (ref, rep, cat, txt, lat, lon, src,
-- acc, brg, obs, sent, fwd, mg, pri, fl; td its text as displayed, ln its links), fu
-- and ans (an answer to a follow-up), and
-- the conversation: cc (its chat), dop (draft: 1 put, 2 delete), dj (the draft's state;
-- djs: the same as a string when the caller's text is not an object; left out of a
-- put that a later put of the same chat in the segment supersedes),
-- did (draft id), idle (minutes), um (the citizen's message), nt (notice), ar, at, arp
-- (an addendum: report ref, text, reporter), st (the report's status, absent: new),
-- mod (its moderation verdict: mod_apply_verdict.sql), rf (the database refused the
-- update's own plan: only its inbox row is marked, refused, and keeps its sealed copy);
-- from the relay (no inbox row): rq (a follow-up relayed), rqs (its message queued),
-- rqe (why not), rv (a report whose reviewed notice went). Rows of "o", "m" and "d"
-- name their update by k and their order by n; a reply's params are in pj (params: as a string), fu its follow-up.
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
-- - Duplicates (a report's dw, dk, sb: the window, in seconds, the Hamming distance and
--   the seen-before age): a report repeating the same reporter's text (or its tk, the
--   text with case, blanks and trailing punctuation and emoji set aside, kept hashed in
--   text_key), or a photo (Telegram's file_unique_id or the sanitized bytes' SHA-256),
--   of a report received within dw seconds is folded into that report: its folds
--   counted, its words an addendum when they differ so, its photos not there yet
--   added; the replies say which
--   ("o" rows with w: 1 only for a new report, 2 only for a folded one, whose
--   reference stands for {{fold_ref}}). Each photo stored is linked (media_links) to its
--   8 closest earlier photos within dk bits and to its first sighting (media_near, with
--   the hash of the whole photo and of the picture inside its frame, phash_inner); a
--   first sighting older than sb seconds flags the report "seen_before".
CREATE OR REPLACE FUNCTION store_apply_plan(p jsonb)
RETURNS TABLE (out_k int, out_report bigint, out_unattached boolean)
-- The settings hold for everything called from here too (incident_join, the reports'
-- triggers), whose small tables can only be scanned whole: the disabled scan's cost
-- passes JIT's thresholds, which is why tipline's connections run with JIT off.
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off
    SET enable_bitmapscan = off AS $$
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
    fold bigint;
    fold_ref text;
    new_sha text[];
    new_fuid text[];
    new_media bigint[];
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

        -- 256 with dw: the reporter's recent report again? Decided before the replies
        -- are written: they say one thing or the other. The chat's updates run one at a
        -- time, so its reporter's reports cannot race here.
        fold := NULL;
        fold_ref := NULL;
        new_media := '{}';
        IF ops & 256 <> 0 AND uo ? 'dw' THEN
            SELECT array_agg(x.sha), array_agg(x.fuid) INTO new_sha, new_fuid
            FROM (SELECT m.sha, m.fuid FROM jsonb_to_recordset(p->'m') AS m(k int, sha text,
                                                                           fuid text)
                  WHERE m.k = lo
                  UNION ALL
                  SELECT encode(sha256(COALESCE(dm.bytes, ''::bytea)), 'hex'),
                      dm.tg_file_unique_id
                  FROM draft_media dm
                  WHERE dm.chat_id = (uo->>'cc')::bigint
                    AND dm.draft_id = COALESCE((uo->>'did')::bigint, 0)) x;
            SELECT r.id, r.public_ref INTO fold, fold_ref
            FROM reports r
            WHERE r.reporter = uo->>'rep'
              AND r.received_at > now() - make_interval(secs => (uo->>'dw')::float8)
              AND ((uo->>'txt' IS NOT NULL AND r.text = uo->>'txt')
                   OR r.text_key = sha256(convert_to(uo->>'tk', 'UTF8'))
                   OR EXISTS (SELECT 1 FROM media e
                              WHERE e.report_id = r.id
                                AND (e.sha256 = ANY (new_sha)
                                     OR e.tg_file_unique_id = ANY (new_fuid))))
            ORDER BY r.received_at DESC, r.id DESC
            LIMIT 1
            FOR UPDATE OF r;
        END IF;

        -- 1 replies, 2 tracked messages, 4 draft put, 128 the reporter's and the chat's
        -- rows; the first time, with the inbox rows of the whole batch marked (the
        -- update locks them: a second worker running the same updates waits here, then
        -- finds them processed and writes nothing). The replies take their ids from the
        -- sequence first, so the draft's messages and its keyboard message ("po", kept
        -- by storage: the decision never writes it) can name them. The chats and
        -- reporters rows are rewritten only when something changes or last_seen is a
        -- minute old (most updates then write no new row version).
        IF at_start OR ops & 135 <> 0 THEN
            WITH m AS (UPDATE inbox SET processed_at = now(),
                           refused = update_id = ANY (ARRAY(
                               SELECT x.id FROM jsonb_to_recordset(p->'u')
                                 AS x(id bigint, rf boolean) WHERE x.rf))
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
                                      params text, pr boolean, tr boolean, w int, fu bigint)
                               JOIN u ON u.k = o.k
                               WHERE o.w IS NULL
                                  OR o.w = CASE WHEN fold IS NULL THEN 1 ELSE 2 END
                               ORDER BY o.n) o),
                 ob AS (INSERT INTO outbox (id, chat_id, method, params, followup_id)
                        SELECT ids.id, ids.chat, ids.method,
                            CASE WHEN ids.w = 2
                                THEN replace(COALESCE(ids.pj::text, ids.params),
                                             '{{fold_ref}}', fold_ref)::jsonb
                                ELSE COALESCE(ids.pj, ids.params::jsonb) END,
                            ids.fu
                        FROM ids
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
                            UNION ALL SELECT u.rep, 1 FROM u
                            WHERE u.ref IS NOT NULL AND fold IS NULL) v
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
                bytes, size, width, height, phash, phash_inner, gps, gps_accuracy_m, taken_local,
                taken_offset_min, duration_ms)
            SELECT u.cc, u.did, m.kind, m.fid, m.fuid, m.mime, decode(m.b, 'hex'), m.size, m.w,
                m.h, m.ph, m.pi, CASE WHEN m.lat IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326)::geography END,
                m.acc, m.tl, m.toff, m.dur
            FROM jsonb_to_recordset(p->'d')
                AS m(k int, n int, kind text, fid text, fuid text, mime text, b text, size bigint,
                     w int, h int, ph bigint, pi bigint, lat float8, lon float8, acc float8,
                     tl timestamp, toff int, dur int)
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
        IF ops & 256 <> 0 AND fold IS NOT NULL THEN
            rid := fold;
            UPDATE reports SET folds = folds + 1 WHERE id = rid;
            INSERT INTO report_addenda (report_id, text)
            SELECT rid, uo->>'txt'
            WHERE uo->>'txt' IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM reports r
                              WHERE r.id = rid
                                AND (r.text = uo->>'txt'
                                     OR r.text_key = sha256(convert_to(uo->>'tk', 'UTF8'))));
        ELSIF ops & 256 <> 0 THEN
            INSERT INTO reports (public_ref, reporter, category, text, point, point_source,
                accuracy_m, bearing, observed_at, sent_at, forwarded, media_group_id, priority,
                flags, place_candidates, status, text_display, links, text_key)
            SELECT x.ref, x.rep, x.cat, x.txt,
                CASE WHEN x.lat IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326)::geography END,
                x.src, x.acc, x.brg, to_timestamp(x.obs), to_timestamp(x.sent),
                COALESCE(x.fwd, false), x.mg, COALESCE(x.pri, 0),
                COALESCE(string_to_array(x.fl, ','), '{}'), x.pc::jsonb, COALESCE(x.st, 'new'),
                x.td, x.ln, sha256(convert_to(x.tk, 'UTF8'))
            FROM jsonb_to_record(uo) AS x(ref text, rep text, cat text, txt text, lat float8,
                lon float8, src text, acc float8, brg float8, obs float8, sent float8,
                fwd boolean, mg text, pri int, fl text, pc text, st text, td text, ln text[],
                tk text)
            RETURNING id INTO rid;
        END IF;
        -- 2048: the report's own photos
        IF ops & 2048 <> 0 THEN
            WITH ins AS (
                INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id, mime, bytes,
                    size, width, height, phash, phash_inner, sha256, gps, gps_accuracy_m,
                    taken_local, taken_offset_min, duration_ms)
                SELECT rid, m.kind, m.fid, m.fuid, m.mime, decode(m.b, 'hex'), m.size, m.w, m.h,
                    m.ph, m.pi, m.sha, CASE WHEN m.lat IS NOT NULL
                        THEN ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326)::geography END,
                    m.acc, m.tl, m.toff, m.dur
                FROM jsonb_to_recordset(p->'m')
                    AS m(k int, n int, kind text, fid text, fuid text, mime text, b text,
                         size bigint, w int, h int, ph bigint, pi bigint, sha text, lat float8,
                         lon float8, acc float8, tl timestamp, toff int, dur int)
                WHERE m.k = lo
                  AND (fold IS NULL OR NOT EXISTS (
                      SELECT 1 FROM media e WHERE e.report_id = rid
                        AND (e.sha256 = m.sha OR e.tg_file_unique_id = m.fuid)))
                ORDER BY m.n
                RETURNING id)
            SELECT COALESCE(array_agg(ins.id), '{}') INTO new_media FROM ins;
        END IF;
        IF ops & 256 <> 0 THEN
            IF COALESCE((uo->>'did')::bigint, 0) <> 0 THEN
                WITH dm AS (DELETE FROM draft_media WHERE chat_id = (uo->>'cc')::bigint
                              AND draft_id = (uo->>'did')::bigint RETURNING *),
                     med AS (INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id,
                                 mime, bytes, size, width, height, phash, phash_inner, sha256,
                                 gps, gps_accuracy_m, taken_local, taken_offset_min, duration_ms)
                             SELECT rid, dm.kind, dm.tg_file_id, dm.tg_file_unique_id, dm.mime,
                                 dm.bytes, dm.size, dm.width, dm.height, dm.phash,
                                 dm.phash_inner, dm.sha,
                                 dm.gps, dm.gps_accuracy_m, dm.taken_local, dm.taken_offset_min,
                                 dm.duration_ms
                             FROM (SELECT dm.*, encode(sha256(COALESCE(dm.bytes, ''::bytea)),
                                       'hex') AS sha FROM dm) dm
                             WHERE fold IS NULL OR NOT EXISTS (
                                 SELECT 1 FROM media e WHERE e.report_id = rid
                                   AND (e.sha256 = dm.sha
                                        OR e.tg_file_unique_id = dm.tg_file_unique_id))
                             ORDER BY dm.id
                             RETURNING id),
                     cm AS (UPDATE conv_messages SET report_id = rid
                            WHERE chat_id = (uo->>'cc')::bigint
                              AND draft_id = (uo->>'did')::bigint)
                SELECT new_media || COALESCE(array_agg(med.id), '{}') INTO new_media FROM med;
            END IF;
            -- each photo linked to its closest earlier ones and its first sighting, after
            -- the locks that make a near-duplicate stored at the same moment wait for
            -- this one's commit (media_lock_keys), in one order (no deadlock); found from
            -- the bot's index in memory when the plan carries its search (nx), else by
            -- media_near (media_near_seen.sql)
            IF uo ? 'dk' AND cardinality(new_media) > 0 THEN
                PERFORM pg_advisory_xact_lock(230023, s.key)
                FROM (SELECT DISTINCT l.key
                      FROM media nm
                      CROSS JOIN LATERAL (SELECT media_lock_keys(nm.phash, (uo->>'dk')::int)
                                          UNION
                                          SELECT media_lock_keys(nm.phash_inner,
                                                                 (uo->>'dk')::int)
                                          WHERE nm.phash_inner IS NOT NULL) l(key)
                      WHERE nm.id = ANY (new_media) AND nm.phash IS NOT NULL
                      ORDER BY l.key) s;
                INSERT INTO media_links (media_id, near_media_id, distance)
                SELECT nm.id, c.id, c.distance
                FROM media nm
                CROSS JOIN LATERAL (
                    WITH n AS (SELECT x.id, min(x.distance) AS distance, o.created_at
                               FROM (SELECT * FROM media_near_seen(nm.phash, (uo->>'dk')::int,
                                                                   uo->'nx')
                                     UNION ALL
                                     SELECT * FROM media_near_seen(nm.phash_inner,
                                                                   (uo->>'dk')::int, uo->'nx')
                                     WHERE nm.phash_inner IS NOT NULL) x
                               JOIN media o ON o.id = x.id
                               WHERE o.report_id <> rid
                               GROUP BY x.id, o.created_at)
                    (SELECT n.id, n.distance FROM n ORDER BY n.distance, n.created_at, n.id
                     LIMIT 8)
                    UNION
                    (SELECT n.id, n.distance FROM n ORDER BY n.created_at, n.id LIMIT 1)) c
                WHERE nm.id = ANY (new_media) AND nm.phash IS NOT NULL
                ON CONFLICT DO NOTHING;
                IF FOUND AND EXISTS (
                        SELECT 1 FROM media_links l JOIN media o ON o.id = l.near_media_id
                        WHERE l.media_id = ANY (new_media)
                          AND o.created_at < now() - make_interval(secs => (uo->>'sb')::float8))
                THEN
                    UPDATE reports SET flags = flags || '{seen_before}'::text[]
                    WHERE id = rid AND NOT flags @> '{seen_before}'::text[];
                END IF;
            END IF;
            -- a message folded into the reporter's earlier report counts for the rate,
            -- the rules' hits and the ban notice; the verdict and campaign stay that
            -- report's own
            IF uo ? 'mod' THEN
                PERFORM mod_apply_verdict(rid, uo->>'rep', CASE WHEN fold IS NULL
                    THEN uo->'mod' ELSE (uo->'mod') - '{v,c,wt,sig}'::text[] END);
            END IF;
            -- the report joins its incident in this transaction (incident_join.sql), after
            -- its verdict: a report held by moderation joins none until released
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
