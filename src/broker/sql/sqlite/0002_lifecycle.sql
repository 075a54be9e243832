-- Subscription lifecycle: rate limits, asymmetric signing, expiry notices.
ALTER TABLE subscriptions ADD COLUMN rate_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN signing_algorithm TEXT NOT NULL DEFAULT 'HMAC_SHA256';
ALTER TABLE subscriptions ADD COLUMN public_key TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN expiring_notified INTEGER NOT NULL DEFAULT 0;
CREATE INDEX subscriptions_by_expiry ON subscriptions (expire_time)
    WHERE state IN ('ACTIVE', 'PAUSED');
CREATE INDEX events_by_create_time ON events (create_time);
