//! RFC 9457 problem details: every error either API returns, as `application/problem+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::app::admin::AdminError;
use crate::app::ingest::IngestError;
use crate::domain::event::SubmissionError;
use crate::domain::validation::FieldError;
use crate::wire::ProblemBody;

/// An error response. `kind` becomes the problem `type`, `urn:authhooks:problem:<kind>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Seconds, for 503s: when the caller may retry.
    pub retry_after: Option<u32>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self {
            status,
            kind,
            title,
            detail: title.to_owned(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", "Malformed request").detail(detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized").detail(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(detail)
    }

    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Payload too large",
        )
        .detail(detail)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
        )
        .detail("the body must be JSON, sent with content-type: application/json")
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Validation failed",
        )
        .detail(detail)
        .errors(errors)
    }

    /// A list's `cursor` it never handed out: the caller's mistake, named.
    pub fn invalid_cursor(reason: &str) -> Self {
        Self::malformed("invalid query").errors(vec![FieldError::new(
            "cursor",
            format!("is not a cursor this list handed out ({reason})"),
        )])
    }

    /// A dependency is down: nothing was half-done, the caller should retry.
    pub fn unavailable() -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        )
        .detail("a dependency is unavailable; nothing was stored, retry the request");
        problem.retry_after = Some(1);
        problem
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: format!("urn:authhooks:problem:{}", self.kind),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A use case's error; a dependency's own message is logged, never returned.
impl From<AdminError> for Problem {
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Invalid(errors) => Self::invalid(errors),
            AdminError::NotFound(what) => Self::not_found(format!("{what} does not exist")),
            AdminError::InvalidCursor(reason) => Self::invalid_cursor(&reason),
            AdminError::NotConfigured(what) => Self::new(
                StatusCode::NOT_IMPLEMENTED,
                "not-configured",
                "Not configured",
            )
            .detail(format!("{what} is not configured on this deployment")),
            AdminError::Unavailable(e) => {
                tracing::error!(error = %e, "admin dependency unavailable");
                Self::unavailable()
            }
        }
    }
}

impl From<IngestError> for Problem {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Unauthorized(e) => Self::unauthorized(e.to_string()),
            IngestError::Invalid(SubmissionError::Malformed(detail)) => Self::malformed(detail),
            IngestError::Invalid(SubmissionError::TooLarge(detail)) => Self::too_large(detail),
            IngestError::Invalid(SubmissionError::Invalid(errors)) => Self::invalid(errors),
            IngestError::Unavailable(e) => {
                tracing::error!(error = %e, "ingest dependency unavailable");
                Self::unavailable()
            }
        }
    }
}
