-- Named queries for the SQLite store. Lists of values travel as one JSON array
-- parameter (json_each), so no statement text is ever built at run time, with two
-- exceptions: the inserts of events and deliveries end in one VALUES row of positional
-- placeholders, which `sqlite_bulk.insert_rows` repeats to insert many rows at once, and
-- the idempotency key lookup ends in `IN (?)`, which `sqlite._stored_by_key` repeats.

-- name: events_by_idempotency_key
-- Keys are bound one per placeholder, never through json_each: SQLite's JSON functions
-- cut text at a NUL character, so a key holding one would miss its stored event.
SELECT * FROM events WHERE idempotency_key IN (?);

-- name: matching_subscriptions
SELECT p.pattern, s.id
FROM subscription_patterns AS p JOIN subscriptions AS s ON s.id = p.subscription_id
WHERE p.pattern IN (SELECT value FROM json_each(:patterns))
  AND s.state IN ('ACTIVE', 'PAUSED')
  AND s.expire_time > :now;

-- name: insert_event
-- Positional values: rows.event_values.
INSERT INTO events (id, type, data, content_type, attributes, idempotency_key, create_time)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: insert_delivery
-- Positional values: rows.delivery_values.
INSERT INTO deliveries (id, event_id, subscription_id, event_type, state, attempt_count,
                        next_attempt_time, lease_id, last_error, last_status_code,
                        create_time, update_time)
VALUES (?, ?, ?, ?, 'PENDING', 0, ?, '', '', 0, ?, ?);

-- name: get_event
SELECT * FROM events WHERE id = :id;

-- name: list_events
SELECT * FROM events
WHERE id > :after
  AND ((:type = '' AND :prefix = '') OR type = :type
       OR (:prefix <> '' AND substr(type, 1, length(:prefix)) = :prefix))
ORDER BY id LIMIT :limit;

-- name: insert_subscription
INSERT INTO subscriptions (id, url, event_types, secret, previous_secret,
                           previous_secret_expire_time, headers, properties, client_state,
                           payload_mode, verification, expire_time, state, description,
                           create_time, update_time, retry_schedule, disabled_reason,
                           failing_since, rate_limit, signing_algorithm, public_key,
                           expiring_notified)
VALUES (:id, :url, :event_types, :secret, :previous_secret, :previous_secret_expire_time,
        :headers, :properties, :client_state, :payload_mode, :verification, :expire_time,
        :state, :description, :create_time, :update_time, :retry_schedule, :disabled_reason,
        :failing_since, :rate_limit, :signing_algorithm, :public_key, :expiring_notified);

-- name: insert_pattern
INSERT OR IGNORE INTO subscription_patterns (pattern, subscription_id) VALUES (:pattern, :subscription_id);

-- name: delete_patterns
DELETE FROM subscription_patterns WHERE subscription_id = :id;

-- name: get_subscription
SELECT * FROM subscriptions WHERE id = :id;

-- name: subscriptions_by_ids
SELECT * FROM subscriptions WHERE id IN (SELECT value FROM json_each(:ids));

-- name: list_subscriptions
SELECT * FROM subscriptions
WHERE id > :after AND (:state = '' OR state = :state)
ORDER BY id LIMIT :limit;

-- name: update_subscription
-- Optimistic: applies only if nobody changed the row since it was read (:expected_update_time).
UPDATE subscriptions
SET url = :url, event_types = :event_types, secret = :secret,
    previous_secret = :previous_secret, previous_secret_expire_time = :previous_secret_expire_time,
    headers = :headers, properties = :properties,
    client_state = :client_state, payload_mode = :payload_mode, verification = :verification,
    expire_time = :expire_time, state = :state, description = :description,
    update_time = :update_time, retry_schedule = :retry_schedule,
    disabled_reason = :disabled_reason, failing_since = :failing_since,
    rate_limit = :rate_limit, signing_algorithm = :signing_algorithm, public_key = :public_key,
    expiring_notified = :expiring_notified
WHERE id = :id AND update_time = :expected_update_time;

-- name: delete_subscription
DELETE FROM subscriptions WHERE id = :id;

-- name: cancel_subscription_deliveries
UPDATE deliveries
SET state = 'FAILED', last_error = 'subscription deleted', lease_id = '', update_time = :now
WHERE subscription_id = :id AND state = 'PENDING';

-- name: due_deliveries
SELECT d.id, d.subscription_id FROM deliveries AS d
JOIN subscriptions AS s ON s.id = d.subscription_id
WHERE d.state = 'PENDING' AND d.next_attempt_time <= :now
  AND s.state = 'ACTIVE' AND s.expire_time > :now
  AND d.subscription_id NOT IN (SELECT value FROM json_each(:blocked))
ORDER BY d.next_attempt_time LIMIT :limit;

-- name: due_deliveries_per_subscription
-- The same, walking each queued subscription's own queue: used while some are held back,
-- whose backlog the global due order would otherwise wade through on every lease.
SELECT d.id, d.subscription_id FROM queued_subscriptions AS q
JOIN subscriptions AS s ON s.id = q.id
JOIN deliveries AS d ON d.rowid IN (
    SELECT rowid FROM deliveries
    WHERE subscription_id = s.id AND state = 'PENDING' AND next_attempt_time <= :now
    ORDER BY next_attempt_time LIMIT :limit)
WHERE s.state = 'ACTIVE' AND s.expire_time > :now
  AND s.id NOT IN (SELECT value FROM json_each(:blocked))
ORDER BY d.next_attempt_time LIMIT :limit;

-- name: lease_deliveries
UPDATE deliveries
SET next_attempt_time = :lease_expire_time, lease_id = :lease_id
WHERE id IN (SELECT value FROM json_each(:ids))
RETURNING *;

-- name: events_by_ids
SELECT * FROM events WHERE id IN (SELECT value FROM json_each(:ids));

-- name: next_due_time
SELECT min(d.next_attempt_time) FROM deliveries AS d
JOIN subscriptions AS s ON s.id = d.subscription_id
WHERE d.state = 'PENDING' AND s.state = 'ACTIVE' AND s.expire_time > :now
  AND d.subscription_id NOT IN (SELECT value FROM json_each(:blocked));

-- name: next_due_time_per_subscription
SELECT min((SELECT min(next_attempt_time) FROM deliveries
            WHERE subscription_id = s.id AND state = 'PENDING'))
FROM queued_subscriptions AS q JOIN subscriptions AS s ON s.id = q.id
WHERE s.state = 'ACTIVE' AND s.expire_time > :now
  AND s.id NOT IN (SELECT value FROM json_each(:blocked));

-- name: deliveries_by_ids
SELECT * FROM deliveries WHERE id IN (SELECT value FROM json_each(:ids));

-- name: insert_attempt
INSERT INTO attempts (id, delivery_id, attempt_number, attempt_time, status_code, latency,
                      error, response_body, result)
VALUES (:id, :delivery_id, :attempt_number, :attempt_time, :status_code, :latency,
        :error, :response_body, :result);

-- name: finish_attempt
UPDATE deliveries
SET state = :state, attempt_count = :attempt_count, next_attempt_time = :next_attempt_time,
    lease_id = '', last_error = :last_error, last_status_code = :last_status_code,
    update_time = :now
WHERE id = :id AND lease_id = :lease_id;

-- Streak changes bump update_time so that a concurrent read-modify-write notices them.
-- name: mark_subscription_healthy
UPDATE subscriptions SET failing_since = NULL, update_time = :now
WHERE id = :id AND failing_since IS NOT NULL;

-- name: mark_subscription_failing
UPDATE subscriptions SET failing_since = :now, update_time = :now
WHERE id = :id AND failing_since IS NULL;

-- name: disable_subscription
UPDATE subscriptions
SET state = 'DISABLED', disabled_reason = :reason, update_time = :now
WHERE id = :id AND state IN ('ACTIVE', 'PAUSED');

-- name: get_delivery
SELECT * FROM deliveries WHERE id = :id;

-- name: list_deliveries
SELECT * FROM deliveries
WHERE id > :after
  AND (:subscription_id = '' OR subscription_id = :subscription_id)
  AND (:event_id = '' OR event_id = :event_id)
  AND (:state = '' OR state = :state)
ORDER BY id LIMIT :limit;

-- name: retry_delivery
UPDATE deliveries
SET state = 'PENDING', next_attempt_time = :now, lease_id = '', update_time = :now
WHERE id = :id
RETURNING *;

-- name: list_attempts
SELECT * FROM attempts WHERE delivery_id = :delivery_id AND id > :after ORDER BY id LIMIT :limit;

-- name: subscriptions_to_warn
SELECT * FROM subscriptions
WHERE state IN ('ACTIVE', 'PAUSED') AND expire_time <= :before AND expiring_notified = 0
ORDER BY expire_time LIMIT :limit;

-- name: mark_expiring_notified
UPDATE subscriptions SET expiring_notified = 1, update_time = :now WHERE id = :id;

-- name: expire_subscriptions
UPDATE subscriptions SET state = 'EXPIRED', update_time = :now
WHERE id IN (
    SELECT id FROM subscriptions
    WHERE state IN ('ACTIVE', 'PAUSED') AND expire_time <= :now
    ORDER BY expire_time LIMIT :limit
)
RETURNING *;

-- name: events_in_window
SELECT id, type FROM events
WHERE create_time >= :start AND create_time < :end AND id > :after
ORDER BY id LIMIT :limit;

-- name: purge_events
DELETE FROM events WHERE id IN (
    SELECT id FROM events WHERE create_time < :before ORDER BY create_time LIMIT :limit
)
RETURNING id;

-- name: purge_deliveries
DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(:ids)) RETURNING id;

-- name: purge_attempts
DELETE FROM attempts WHERE delivery_id IN (SELECT value FROM json_each(:ids));

-- name: insert_source
INSERT INTO sources (id, provider, secret, previous_secret, previous_secret_expire_time,
                     event_type_prefix, options, description, create_time, delete_time)
VALUES (:id, :provider, :secret, :previous_secret, :previous_secret_expire_time,
        :event_type_prefix, :options, :description, :create_time, :delete_time);

-- name: get_source
SELECT * FROM sources WHERE id = :id;

-- name: list_sources
SELECT * FROM sources
WHERE id > :after AND delete_time = 0 AND (:provider = '' OR provider = :provider)
ORDER BY id LIMIT :limit;

-- name: delete_source
UPDATE sources SET delete_time = :now, secret = '', previous_secret = '',
                   previous_secret_expire_time = 0
WHERE id = :id AND delete_time = 0;

-- name: rotate_source_secret
UPDATE sources SET previous_secret = secret, previous_secret_expire_time = :previous_expire,
                   secret = :secret
WHERE id = :id AND delete_time = 0;

-- name: insert_api_token
INSERT INTO api_tokens (id, role, event_types, description, secret_hash, create_time,
                        expire_time, revoke_time)
VALUES (:id, :role, :event_types, :description, :secret_hash, :create_time, :expire_time,
        :revoke_time);

-- name: get_api_token
SELECT * FROM api_tokens WHERE id = :id;

-- name: list_api_tokens
SELECT * FROM api_tokens WHERE id > :after ORDER BY id LIMIT :limit;

-- name: revoke_api_token
UPDATE api_tokens SET revoke_time = :now WHERE id = :id AND revoke_time = 0;

-- name: count_api_tokens
SELECT count(*) AS n FROM api_tokens;

-- name: set_source_secrets
UPDATE sources SET secret = :secret, previous_secret = :previous_secret,
                   previous_secret_expire_time = :previous_secret_expire_time
WHERE id = :id AND delete_time = 0;

-- name: source_secrets_page
SELECT id, provider, secret, previous_secret FROM sources
WHERE id > :after ORDER BY id LIMIT :limit;

-- name: reseal_source
UPDATE sources SET secret = :secret, previous_secret = :previous_secret WHERE id = :id;

-- name: subscription_secrets_page
SELECT id, secret, previous_secret FROM subscriptions
WHERE id > :after ORDER BY id LIMIT :limit;

-- name: reseal_subscription
UPDATE subscriptions SET secret = :secret, previous_secret = :previous_secret WHERE id = :id;

-- name: any_sealed_secret
-- Whether the database already holds sealed secrets (then a missing key is an error,
-- never a reason to make a new one).
SELECT EXISTS (SELECT 1 FROM subscriptions WHERE secret LIKE 'v1.%')
    OR EXISTS (SELECT 1 FROM sources WHERE secret LIKE 'v1.%') AS sealed;
