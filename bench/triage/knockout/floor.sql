-- bench/triage/knockout/floor.sql - a measurement, not a product change: with
-- VARIANT=this file, bench/triage/run.sh measures what a decide-then-next pair cannot
-- do without. Everything of knockout/derived.sql is off, and the claimed report's
-- document is its id alone. What is left: the decision with its checks, its audit row
-- and the report's UPDATE; the claim's pick, lease and audited view; the decision's
-- short answer (web_decision_doc).
\ir derived.sql
CREATE OR REPLACE FUNCTION web_report_json(r reports, decimals integer, qs text[],
                                           p_recent boolean) RETURNS text
LANGUAGE plpgsql AS $$ BEGIN RETURN json_build_object('id', r.id)::text; END $$;
