-- 0020_place_candidates.sql
-- Why: citizens name villages, and dozens of villages share a name (Novoselivka,
-- Mykolaivka, Ivanivka). When neither a named oblast nor the photo's GPS settles which
-- one a report means, the report keeps the most populous one's point, flagged
-- place_ambiguous; the analyst needs every candidate to pick the right one. A JSON array
-- of {name, oblast, country, lat, lon, accuracy_m}, as the gazetteer gave them; NULL
-- when the place was not ambiguous.
ALTER TABLE reports ADD COLUMN place_candidates jsonb;
