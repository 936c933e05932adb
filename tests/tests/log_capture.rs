//! The logs, captured as the JSON lines Lambda would ship with every target at `trace`
//! (dependencies included): a delivery's lines name its event, delivery and endpoint, and no
//! line of a delivery, a refused request, a secret rotation or a failure carries a secret, a
//! signature, the admin token, a response snippet or any part of the payload.

#[path = "log_capture/admin.rs"]
mod admin;
#[path = "log_capture/capture.rs"]
mod capture;
#[path = "log_capture/delivery.rs"]
mod delivery;
#[path = "log_capture/local.rs"]
mod local;
#[path = "log_capture/rejected.rs"]
mod rejected;
