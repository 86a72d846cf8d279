-- incident_fuse_lines.sql
-- The position of a target seen from several points along bearings (degrees clockwise
-- from north): the weighted least-squares intersection of the bearing lines on a local
-- tangent plane at the observers' mean point (metres; the plane's error is negligible at
-- the ranges of a sighting). Each line's weight is 1/sigma^2, where sigma, the error across
-- the line, comes from the point's accuracy and the bearing's error at the target's range
-- (so the first pass weighs by accuracy alone, the second with the ranges it found).
-- uncertainty_m is the RMS radial error of the estimate, sqrt(trace(cov)), cov = A^-1: it
-- grows as the lines approach parallel. No position (NULLs, lines = the count) when fewer
-- than two lines, lines closer to parallel than min_angle_deg, the target behind any
-- observer (diverging lines), or farther than max_range_m from one.
-- Pure (no table read), so the tests call it with known geometry.
CREATE OR REPLACE FUNCTION incident_fuse_lines(lats float8[], lons float8[], accs float8[],
                                               brgs float8[], sigma_deg float8,
                                               min_angle_deg float8, max_range_m float8,
                                               OUT lat float8, OUT lon float8,
                                               OUT uncertainty_m float8, OUT lines integer)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    earth constant float8 := 6371008.8;
    n integer := COALESCE(cardinality(brgs), 0);
    lat0 float8;
    lon0 float8;
    k float8;
    xs float8[] := '{}';
    ys float8[] := '{}';
    t float8[] := '{}';
    c float8;
    s float8;
    wt float8;
    sig float8;
    a11 float8;
    a12 float8;
    a22 float8;
    b1 float8;
    b2 float8;
    det float8;
    x float8;
    y float8;
    ang float8;
    widest float8 := 0;
    i integer;
    j integer;
BEGIN
    lines := n;
    IF n < 2 THEN
        RETURN;
    END IF;
    FOR i IN 1 .. n LOOP
        FOR j IN i + 1 .. n LOOP
            ang := abs(brgs[i] - brgs[j])::numeric % 180;
            widest := GREATEST(widest, LEAST(ang, 180 - ang));
        END LOOP;
    END LOOP;
    IF widest < min_angle_deg THEN
        RETURN;
    END IF;
    SELECT avg(v) INTO lat0 FROM unnest(lats) v;
    SELECT avg(v) INTO lon0 FROM unnest(lons) v;
    k := cos(radians(lat0));
    FOR i IN 1 .. n LOOP
        xs[i] := earth * radians(lons[i] - lon0) * k;
        ys[i] := earth * radians(lats[i] - lat0);
        t[i] := 0;
    END LOOP;
    FOR pass IN 1 .. 2 LOOP
        a11 := 0; a12 := 0; a22 := 0; b1 := 0; b2 := 0;
        FOR i IN 1 .. n LOOP
            c := cos(radians(brgs[i]));
            s := sin(radians(brgs[i]));
            sig := sqrt(GREATEST(COALESCE(accs[i], 0), 5) ^ 2
                        + (GREATEST(t[i], 0) * radians(sigma_deg)) ^ 2);
            wt := 1 / (sig * sig);
            -- the line's normal is (c, -s); its offset c*x - s*y
            a11 := a11 + wt * c * c;
            a12 := a12 - wt * c * s;
            a22 := a22 + wt * s * s;
            b1 := b1 + wt * c * (c * xs[i] - s * ys[i]);
            b2 := b2 - wt * s * (c * xs[i] - s * ys[i]);
        END LOOP;
        det := a11 * a22 - a12 * a12;
        IF det <= 0 OR det < 1e-12 * (a11 + a22) ^ 2 THEN
            RETURN;
        END IF;
        x := (a22 * b1 - a12 * b2) / det;
        y := (a11 * b2 - a12 * b1) / det;
        FOR i IN 1 .. n LOOP
            -- how far along its bearing each observer sees the estimate
            t[i] := sin(radians(brgs[i])) * (x - xs[i]) + cos(radians(brgs[i])) * (y - ys[i]);
            IF t[i] <= 0 OR t[i] > max_range_m THEN
                RETURN;
            END IF;
        END LOOP;
    END LOOP;
    uncertainty_m := sqrt((a11 + a22) / det);
    lat := lat0 + degrees(y / earth);
    lon := lon0 + degrees(x / (earth * k));
END
$$;
