//! DynamoDB adapters: endpoints, state (idempotency + per-endpoint), failures.
