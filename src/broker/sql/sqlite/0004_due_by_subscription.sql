-- The queue per subscription, so leasing can skip a held-back subscription's backlog
-- (at its in-flight window or rate limit) without reading it.
CREATE INDEX deliveries_due_by_subscription ON deliveries (subscription_id, next_attempt_time)
    WHERE state = 'PENDING';

-- The subscriptions with pending deliveries, found by skipping from one to the next through
-- that index: the cost follows the subscriptions with work, not all of them.
CREATE VIEW queued_subscriptions (id) AS
WITH RECURSIVE queued(sub) AS (
    SELECT min(subscription_id) FROM deliveries WHERE state = 'PENDING'
    UNION ALL
    SELECT (SELECT min(subscription_id) FROM deliveries
            WHERE state = 'PENDING' AND subscription_id > queued.sub)
    FROM queued WHERE queued.sub IS NOT NULL
)
SELECT sub FROM queued WHERE sub IS NOT NULL;
