//! The SQS adapter: batched sends with per-message delays.
