-- reports_valid.sql
-- The reports' value rules, as one trigger that fires only when a checked column is
-- written (a CHECK constraint would run on every UPDATE, claims included); raises 23514.
CREATE OR REPLACE FUNCTION reports_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    -- As a CHECK: a rule fails only when false (NULL passes).
    IF NOT (NEW.status IN ('new', 'confirmed', 'rejected', 'duplicate', 'needs_info',
                           'escalated', 'held')) THEN
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

CREATE OR REPLACE TRIGGER reports_valid BEFORE INSERT OR UPDATE OF status, point, point_source,
    accuracy_m, bearing, corroborations ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_valid();
