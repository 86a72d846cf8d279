-- 0006: the analysts' web API (web/): routing of categories to queues and queues
-- limited to some accounts, console sessions, the decision's note and duplicate link,
-- live notifications of queue changes, and the JSON documents the API serves (built
-- here so that one query answers one request).

-- ---- routing: categories map to queues; a restricted queue is seen by its members only
CREATE TABLE queues (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,32}$'),
    restricted boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO queues (name, restricted) VALUES ('general', false), ('restricted', true);

CREATE TABLE queue_members (
    queue   text NOT NULL REFERENCES queues (name) ON DELETE CASCADE,
    account text NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    PRIMARY KEY (queue, account)
);

-- moving: the thing reported moves (a drone, a column), so its point ages fast.
CREATE TABLE category_queue (
    category text PRIMARY KEY,
    queue    text NOT NULL REFERENCES queues (name),
    moving   boolean NOT NULL DEFAULT false
);
INSERT INTO category_queue (category, queue, moving) VALUES
    ('drones', 'general', true), ('missiles', 'general', true), ('aircraft', 'general', true),
    ('vehicles', 'general', true), ('troops', 'general', true), ('artillery', 'general', false),
    ('explosion', 'general', false), ('damage', 'general', false), ('other', 'general', false),
    ('collaborators', 'restricted', false);

ALTER TABLE reports
    ADD COLUMN queue        text NOT NULL DEFAULT 'general',
    ADD COLUMN note         text,
    ADD COLUMN duplicate_of bigint REFERENCES reports (id) ON DELETE SET NULL;

-- A report's queue follows its category (unmapped categories: 'general').
CREATE FUNCTION reports_route() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.queue := COALESCE((SELECT c.queue FROM category_queue c WHERE c.category = NEW.category),
                          'general');
    RETURN NEW;
END
$$;
CREATE TRIGGER reports_route BEFORE INSERT OR UPDATE OF category ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_route();
UPDATE reports r SET queue = c.queue FROM category_queue c WHERE c.category = r.category;

-- The list, newest first with a keyset cursor; claims within one queue.
CREATE INDEX reports_received_id ON reports (received_at DESC, id DESC);
CREATE INDEX reports_queue_claim ON reports (queue, priority DESC, received_at) WHERE status = 'new';

-- The queues an account may see: unrestricted ones, those it is a member of, all for admins.
CREATE FUNCTION web_queues_for(acct text) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT COALESCE(array_agg(q.name ORDER BY q.name), '{}') FROM queues q
    WHERE NOT q.restricted
       OR EXISTS (SELECT 1 FROM accounts a WHERE a.name = acct AND a.role = 'admin')
       OR EXISTS (SELECT 1 FROM queue_members m WHERE m.queue = q.name AND m.account = acct)
$$;

-- ---- console sessions: only the SHA-256 of the cookie is stored; idle expiry
CREATE TABLE web_sessions (
    sid_sha256 text PRIMARY KEY CHECK (sid_sha256 ~ '^[0-9a-f]{64}$'),
    account    text NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);

-- ---- live updates: every new report, claim, release and decision is announced on
-- channel tipline_reports (the web server LISTENs and fans out to its SSE clients).
--
-- Only while someone listens: each web server's LISTEN connection registers its backend
-- pid in web_listeners (unlogged: a crash of the database ends every LISTEN too). A NOTIFY
-- serialises the commits of all notifying transactions on one lock: claim+decide pairs by
-- 8 pgbench clients (2 busy cores, fsync off) ran at 1,300-1,600/s with nobody listening
-- (as fast as without the trigger) and ~650/s while a web server listens.
CREATE UNLOGGED TABLE web_listeners (
    pid   integer PRIMARY KEY,
    since timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION reports_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM web_listeners) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        ev := 'report';
    ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.decided_at IS DISTINCT FROM OLD.decided_at THEN
        ev := 'decide';
    ELSIF NEW.claimed_by IS NOT NULL AND NEW.claimed_by IS DISTINCT FROM OLD.claimed_by THEN
        ev := 'claim';
    ELSIF NEW.claimed_by IS NULL AND OLD.claimed_by IS NOT NULL THEN
        ev := 'release';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM pg_notify('tipline_reports', json_build_object('event', ev, 'id', NEW.id,
        'status', NEW.status, 'claimed_by', NEW.claimed_by, 'queue', NEW.queue)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER reports_notify AFTER INSERT OR UPDATE OF status, claimed_by, decided_at ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_notify();

-- ---- the API's documents
CREATE FUNCTION web_iso(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- decimals NULL: the exact point; else rounded to that many decimals (~1.1 km at 2).
CREATE FUNCTION web_point(p geography, decimals integer) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p IS NULL THEN NULL
        WHEN decimals IS NULL THEN jsonb_build_object('lat', ST_Y(p::geometry),
            'lon', ST_X(p::geometry), 'rounded', false)
        ELSE jsonb_build_object('lat', round(ST_Y(p::geometry)::numeric, decimals),
            'lon', round(ST_X(p::geometry)::numeric, decimals), 'rounded', true) END
$$;

CREATE FUNCTION web_report_summary(r reports, decimals integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', r.id, 'ref', r.public_ref, 'status', r.status,
        'category', r.category, 'queue', r.queue, 'text', left(r.text, 200),
        'received_at', web_iso(r.received_at), 'observed_at', web_iso(r.observed_at),
        'point', web_point(r.point, decimals), 'point_source', r.point_source,
        'flags', to_jsonb(r.flags),
        'n_media', (SELECT count(*) FROM media m WHERE m.report_id = r.id),
        'corroborations', r.corroborations, 'priority', r.priority,
        'claimed_by', CASE WHEN r.lease_until > now() THEN r.claimed_by END,
        'lease_until', CASE WHEN r.lease_until > now() THEN web_iso(r.lease_until) END)
$$;

-- The reporter appears by the first 12 hex digits of the pseudonym, never by a chat id.
CREATE FUNCTION web_report_full(r reports, decimals integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT web_report_summary(r, decimals) || jsonb_build_object(
        'text', r.text, 'bearing', r.bearing, 'accuracy_m', r.accuracy_m,
        'forwarded', r.forwarded, 'decided_by', r.decided_by,
        'decided_at', web_iso(r.decided_at), 'note', r.note, 'duplicate_of', r.duplicate_of,
        'media', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', m.id, 'kind', m.kind,
                'mime', m.mime, 'width', m.width, 'height', m.height,
                'url', '/api/media/' || m.id,
                'photo_point', web_point(m.gps, decimals) - 'rounded',
                'taken_at', CASE WHEN m.taken_offset_min IS NOT NULL THEN
                    to_char(m.taken_local - m.taken_offset_min * interval '1 minute',
                            'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                    ELSE to_char(m.taken_local, 'YYYY-MM-DD"T"HH24:MI:SS') END)
                ORDER BY m.id) FROM media m WHERE m.report_id = r.id), '[]'::jsonb),
        'followups', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', f.id,
                'question', f.question, 'asked_by', f.asked_by, 'asked_at', web_iso(f.asked_at),
                'relayed_at', web_iso(f.relayed_at), 'relay_error', f.relay_error,
                'answer', f.answer, 'answered_at', web_iso(f.answered_at))
                ORDER BY f.asked_at, f.id) FROM followups f WHERE f.report_id = r.id),
            '[]'::jsonb),
        'reporter', (SELECT jsonb_build_object('pseudonym', left(p.pseudonym, 12),
                'n_reports', p.n_reports, 'n_confirmed', p.n_confirmed,
                'n_rejected', p.n_rejected, 'reputation', p.reputation, 'banned', p.banned)
            FROM reporters p WHERE p.pseudonym = r.reporter))
$$;
