//! Request extractors that reject with problem+json, so a handler reads parse → call →
//! answer with `?`. axum's own rejections (a body over its 2 MB default limit, a path
//! segment that is not UTF-8 once decoded, an unreadable query) would be plain text.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde_json::Value;

use super::is_json;
use super::problem::Problem;
use crate::domain::json::{check_strict, Strictness, DUPLICATE_KEY};
use crate::domain::validation::FieldError;
use crate::ports::PageRequest;

/// Items per page when `limit` is absent.
const DEFAULT_LIMIT: usize = 50;

/// A JSON body, sent as `application/json`.
pub struct JsonBody(pub Value);

/// A JSON body, or nothing at all (an empty body needs no content type).
pub struct OptionalJsonBody(pub Option<Value>);

/// The `{id}` segment of the path.
pub struct Id(pub String);

/// Every query parameter, the last of a repeated name winning.
pub struct QueryFields(pub HashMap<String, String>);

/// `limit` (1 to [`PageRequest::MAX_LIMIT`], default 50) and `cursor` from the query.
pub struct PageQuery(pub PageRequest);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let json = is_json(request.headers());
        let body = read_body(request, state).await?;
        parse(json, &body).map(Self)
    }
}

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let json = is_json(request.headers());
        let body = read_body(request, state).await?;
        if body.is_empty() {
            return Ok(Self(None));
        }
        parse(json, &body).map(|value| Self(Some(value)))
    }
}

/// The size limit is checked before the content type, which is checked before the syntax.
async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(rejection.body_text()),
            _ => Problem::malformed(rejection.body_text()),
        })
}

fn parse(json: bool, body: &Bytes) -> Result<Value, Problem> {
    if !json {
        return Err(Problem::unsupported_media_type());
    }
    let value = serde_json::from_slice(body)
        .map_err(|e| Problem::malformed(format!("invalid JSON: {e}")))?;
    // Valid JSON is UTF-8; a key given twice would otherwise be read as its last value.
    let text = std::str::from_utf8(body).unwrap_or_default();
    if let Err(Strictness::DuplicateKey(path)) = check_strict(text) {
        return Err(Problem::invalid(vec![FieldError::new(path, DUPLICATE_KEY)]));
    }
    Ok(value)
}

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Self(id))
            .map_err(|rejection| Problem::malformed(rejection.body_text()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryFields {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(fields)| Self(fields))
            .map_err(|rejection| Problem::malformed(rejection.body_text()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let QueryFields(query) = QueryFields::from_request_parts(parts, state).await?;
        let limit = match query.get("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=PageRequest::MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(
                        Problem::malformed("invalid query").errors(vec![FieldError::new(
                            "limit",
                            format!("must be an integer from 1 to {}", PageRequest::MAX_LIMIT),
                        )]),
                    )
                }
            },
        };
        Ok(Self(PageRequest {
            limit,
            cursor: query.get("cursor").cloned(),
        }))
    }
}
