-- 0021_exports.sql - what the exporters (file exports, HTTP feeds, OGC API - Features,
-- vector tiles, signed webhooks) need from the database.
--
-- Why: the feeds page through decided reports in decision order ("after" cursors are
-- (decided_at, id)), and a dashboard polling every few seconds asks only for the newest
-- decision (its ETag/Last-Modified): both are one index walk with reports_decided
-- instead of a sort of every report. An exporter account may register webhook URLs;
-- each decided report becomes one row of webhook_deliveries per subscription (a durable
-- outbox: the decision commits without waiting for any receiver, and a sender thread
-- posts, retries with backoff and records every attempt for the admins).

CREATE INDEX reports_decided ON reports USING btree (decided_at, id) WHERE (decided_at IS NOT NULL);

CREATE TABLE webhook_subscriptions (
    id bigserial,
    account text NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    disabled_at timestamp with time zone,
    CONSTRAINT webhook_subscriptions_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_subscriptions_account_fkey FOREIGN KEY (account) REFERENCES accounts(name),
    CONSTRAINT webhook_subscriptions_url CHECK (url ~ '^https?://')
);

CREATE TABLE webhook_deliveries (
    id bigserial,
    subscription_id bigint NOT NULL,
    event text NOT NULL,
    report_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    next_at timestamp with time zone DEFAULT now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    delivered_at timestamp with time zone,
    gave_up_at timestamp with time zone,
    last_status integer,
    last_error text,
    CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_deliveries_subscription_fkey FOREIGN KEY (subscription_id)
        REFERENCES webhook_subscriptions(id) ON DELETE CASCADE
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries USING btree (next_at, id)
    WHERE (delivered_at IS NULL AND gave_up_at IS NULL);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries USING btree (created_at DESC, id DESC);

-- every attempt, kept for the admins (GET /api/webhooks/deliveries)
CREATE TABLE webhook_attempts (
    id bigserial,
    delivery_id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    status integer,
    error text,
    ms integer NOT NULL,
    CONSTRAINT webhook_attempts_pkey PRIMARY KEY (id),
    CONSTRAINT webhook_attempts_delivery_fkey FOREIGN KEY (delivery_id)
        REFERENCES webhook_deliveries(id) ON DELETE CASCADE
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts USING btree (delivery_id, id);
