//! The delivery log: `GET /v1/deliveries` searches recent attempts (7 days), newest first;
//! `GET /v1/deliveries/overview` sums the last hour's and day's tallies.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};

use super::state::AdminApi;
use crate::api::extract::{PageQuery, QueryFields};
use crate::api::problem::Problem;
use crate::app::Overview;
use crate::domain::delivery_log::{LogEntry, LogQuery, LogStatus};
use crate::domain::event::EventType;
use crate::domain::ids::{DeliveryId, EndpointId, EventId};
use crate::domain::validation::FieldError;
use crate::wire::List;

/// Every parameter the search takes; any other is refused rather than ignored, so a typo
/// never widens a search silently.
const FIELDS: [&str; 10] = [
    "endpoint_id",
    "status",
    "event_type",
    "subject",
    "delivery_id",
    "event_id",
    "since",
    "until",
    "cursor",
    "limit",
];

pub(super) fn routes() -> Router<Arc<AdminApi>> {
    Router::new()
        .route("/v1/deliveries", get(search))
        .route("/v1/deliveries/overview", get(overview))
}

/// The search of `GET /v1/deliveries` (and the portal's), from its query parameters.
pub struct SearchQuery(pub LogQuery);

impl<S: Send + Sync> FromRequestParts<S> for SearchQuery {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let QueryFields(fields) = QueryFields::from_request_parts(parts, state).await?;
        parse(&fields).map(Self)
    }
}

/// Every bad field reported at once.
pub fn parse(fields: &HashMap<String, String>) -> Result<LogQuery, Problem> {
    let mut errors = Vec::new();
    let mut unknown: Vec<&String> = fields
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .collect();
    unknown.sort();
    for name in unknown {
        errors.push(FieldError::new(name, "unknown parameter"));
    }
    let query = LogQuery {
        endpoint_id: take(fields, "endpoint_id", &mut errors, EndpointId::parse),
        status: take(fields, "status", &mut errors, LogStatus::parse),
        event_type: take(fields, "event_type", &mut errors, EventType::parse),
        subject: take(fields, "subject", &mut errors, |raw| {
            match raw.is_empty() || raw.chars().count() > 256 {
                true => Err("must be 1 to 256 characters".to_owned()),
                false => Ok(raw.to_owned()),
            }
        }),
        delivery_id: take(fields, "delivery_id", &mut errors, DeliveryId::parse),
        event_id: take(fields, "event_id", &mut errors, EventId::parse),
        since: take(fields, "since", &mut errors, time),
        until: take(fields, "until", &mut errors, time),
        ..LogQuery::default()
    };
    if errors.is_empty() {
        Ok(query)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// The parameter `name`, parsed, if given; its error noted if it does not parse.
fn take<T>(
    fields: &HashMap<String, String>,
    name: &str,
    errors: &mut Vec<FieldError>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let raw = fields.get(name)?;
    parse(raw)
        .map_err(|e| errors.push(FieldError::new(name, e)))
        .ok()
}

fn time(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 time".to_owned())
}

async fn search(
    State(api): State<Arc<AdminApi>>,
    SearchQuery(query): SearchQuery,
    PageQuery(page): PageQuery,
) -> Result<Json<List<LogEntry>>, Problem> {
    let page = api.admin.search_deliveries(&query, page).await?;
    Ok(Json(List::of(page, |entry| entry)))
}

async fn overview(State(api): State<Arc<AdminApi>>) -> Result<Json<Overview>, Problem> {
    Ok(Json(api.admin.delivery_overview().await?))
}
