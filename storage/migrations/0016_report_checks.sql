-- 0016: the reports' value checks run when the checked columns are written (issue 6).
--
-- PostgreSQL evaluates every CHECK constraint of a table on every UPDATE of it, whatever
-- columns the UPDATE sets, and first reads each constraint's expression back from its
-- stored text and prepares it, once per statement. A claim sets claimed_by and
-- lease_until, a decision the status and the decision's fields: six checks of columns
-- neither touches (point, point_source, accuracy_m, bearing, corroborations) were read,
-- prepared and run twice per claim+decide pair. Counted with callgrind on PostgreSQL
-- itself (a single-user backend running 300 pairs of the bench's web_claim/web_decide
-- calls on a copy of its 1,000,000-report database): 3,937,707 instructions per pair
-- with the checks, 3,521,549 without any, 3,556,513 with this trigger (-9.7 %).
--
-- The same six rules, with the same names and SQLSTATE (23514 check_violation, the
-- constraint's name in the error), now in one BEFORE trigger that fires on INSERT and on
-- an UPDATE that sets one of the checked columns: a claim never fires it, a decision
-- fires it for the status. It is named to run after the other BEFORE triggers of reports
-- (alphabetical: reports_priority_*, reports_route), so it sees the row they leave.
ALTER TABLE reports
    DROP CONSTRAINT reports_point_source_check,
    DROP CONSTRAINT reports_accuracy_m_check,
    DROP CONSTRAINT reports_bearing_check,
    DROP CONSTRAINT reports_status_check,
    DROP CONSTRAINT reports_check,
    DROP CONSTRAINT reports_corroborations_check;

CREATE FUNCTION reports_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    -- As a CHECK: a rule fails only when false (NULL passes).
    IF NOT (NEW.status IN ('new', 'confirmed', 'rejected', 'duplicate', 'needs_info',
                           'escalated')) THEN
        bad := 'reports_status_check';
    ELSIF NOT (NEW.point_source IN ('telegram_location', 'venue', 'live_location',
                                    'photo_exif', 'text')) THEN
        bad := 'reports_point_source_check';
    ELSIF NOT (NEW.accuracy_m IS NULL OR NEW.accuracy_m >= 0) THEN
        bad := 'reports_accuracy_m_check';
    ELSIF NOT (NEW.bearing IS NULL OR (NEW.bearing >= 0 AND NEW.bearing < 360)) THEN
        bad := 'reports_bearing_check';
    ELSIF NOT (NEW.point IS NULL OR NEW.point_source IS NOT NULL) THEN
        bad := 'reports_check';
    ELSIF NOT (NEW.corroborations >= 0) THEN
        bad := 'reports_corroborations_check';
    ELSE
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = bad, TABLE = 'reports',
        MESSAGE = format('new row for relation "reports" violates check constraint "%s"', bad);
END
$$;

CREATE TRIGGER reports_valid BEFORE INSERT OR UPDATE OF status, point, point_source,
    accuracy_m, bearing, corroborations ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_valid();
