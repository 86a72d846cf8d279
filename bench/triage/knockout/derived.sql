-- bench/triage/knockout/derived.sql - a measurement, not a product change: with
-- VARIANT=this file, bench/triage/run.sh measures a decision without the work that
-- follows from it. The decision's five triggers are off (the reporter's reputation and
-- counts with their rescore mark, the tile grid's pending cell, the webhook's delivery
-- row, the rejected report's priority, the validation) and so are the live events
-- (reports_notify: the claim's and the decision's web_events rows). The claimed
-- report's full document is still rendered.
ALTER TABLE reports DISABLE TRIGGER mod_reputation;
ALTER TABLE reports DISABLE TRIGGER reports_priority_rejected;
ALTER TABLE reports DISABLE TRIGGER reports_webhook;
ALTER TABLE reports DISABLE TRIGGER reports_tile_grid_update;
ALTER TABLE reports DISABLE TRIGGER reports_valid;
ALTER TABLE reports DISABLE TRIGGER reports_notify;
