"""The broker: all state and every decision; it never makes an HTTP call.

    publish  grpc.events.EventService → publishing.Publisher (group commit)
             → storage: the event + one PENDING delivery per matching subscription, one transaction
             → work_may_be_due() wakes the dispatcher
    lease    dispatcher.Dispatcher asks the store for due deliveries within each
             subscription's window (throttle), mints THIN fetch tokens, and pushes them
             through gateway_hub.GatewayHub to gateways that granted credit (grpc.deliveries)
    outcome  a gateway reports an Outcome → retry_policy.RetryPolicy.decide (pure) → Decision
             → storage records the attempt and applies the verdict, with its notices
             (operational_events), in one transaction
    manage   grpc.{subscriptions,sources,deliveries,events} → the use case named after the
             resource (subscriptions, sources, deliveries, events) → storage

`broker.grpc` is the edge (the only importer of `hookwire.v1`); `domain` holds the records
and the delivery vocabulary; `storage/` depends on the domain alone; `server` assembles it.
"""
