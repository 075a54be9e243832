-- The queue per subscription, so leasing can skip a held-back subscription's backlog
-- (at its in-flight cap or rate limit) without reading it.
CREATE INDEX deliveries_due_by_subscription ON deliveries (subscription_id, next_attempt_time)
    WHERE state = 'PENDING';
