-- 0033_incident_webhooks.sql - outgoing webhooks for incident changes, and the event
-- kinds a subscription takes.
--
-- Why: a dashboard that follows incidents (one event seen by hundreds) wants to hear when
-- one appears, gains members or corroboration, is merged, split or gets a fused bearing
-- position, without polling the OGC API. The same durable outbox carries it: a delivery
-- row names either a report or an incident, and an incident's row lists what changed
-- (`changes`). A burst (300 reports joining one incident in a minute) must not become 300
-- posts: while an incident's delivery has not been attempted yet, later changes are
-- folded into that row (storage/schema/webhook_enqueue_incident.sql), so the receiver
-- gets the incident as it stands when it is posted; the index below finds that row.
-- Existing subscriptions keep receiving report decisions only (`events` defaults to
-- reports): a receiver does not start getting bodies it was not written for.
ALTER TABLE webhook_subscriptions
    ADD COLUMN events text[] DEFAULT '{reports}'::text[] NOT NULL,
    ADD CONSTRAINT webhook_subscriptions_events
        CHECK (cardinality(events) > 0 AND events <@ '{reports,incidents}'::text[]);

ALTER TABLE webhook_deliveries
    ALTER COLUMN report_id DROP NOT NULL,
    ADD COLUMN incident_id bigint,
    ADD COLUMN changes text[],
    ADD CONSTRAINT webhook_deliveries_subject CHECK ((report_id IS NULL) <> (incident_id IS NULL));

CREATE INDEX webhook_deliveries_incident_fresh ON webhook_deliveries
    USING btree (incident_id, subscription_id)
    WHERE (incident_id IS NOT NULL AND attempts = 0 AND delivered_at IS NULL
           AND gave_up_at IS NULL);
