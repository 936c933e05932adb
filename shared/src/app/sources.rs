//! Inbound sources (§3.16): their administration, a dry run of a script, and the inbound
//! path — check the sender's signature, run the source's script over the request, and
//! ingest the events it returns exactly as `POST /v1/events` would (validation,
//! idempotency, fan-out, loop guard). A script or its events failing is the source's fault,
//! not the sender's: it is recorded and answered as received, so the sender does not retry
//! a request that would fail the same way forever.

use std::sync::Arc;

use serde_json::Value;

use super::ingest::{Accepted, Ingest, IngestError, SignedRequest};
use crate::domain::event::{parse_submission, SubmissionError};
use crate::domain::ids::SourceId;
use crate::domain::source::{
    apply_patch, parse_new, request_id, script_input, submission, FailureKind, InboundRejected,
    InboundRequest, Source, SourceFailure, SourceView,
};
use crate::domain::validation::FieldError;
use crate::ports::{Clock, Entropy, Page, PageRequest, PortError, Scripts, SourceStore};

/// Sources over the ports they own, and the ingest their events go through.
#[derive(Clone)]
pub struct Sources {
    pub store: Arc<dyn SourceStore>,
    pub scripts: Arc<dyn Scripts>,
    pub ingest: Arc<Ingest>,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error("no source {0}")]
    NotFound(String),
    #[error("invalid source")]
    Invalid(Vec<FieldError>),
    /// The sandbox was too busy to check the script; nothing was stored.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// No such source, or it is disabled: nothing ran, nothing was recorded.
    #[error("no enabled source {0}")]
    NotFound(String),
    #[error("signature rejected: {0}")]
    Unauthorized(#[from] InboundRejected),
    /// The request was not taken (script runners busy, a store down): the sender retries.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// What became of an inbound request whose signature was good.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// The script's events, accepted (none when it returned nothing).
    Accepted(Vec<Accepted>),
    /// The script or its events failed, and the failure was recorded.
    Failed(SourceFailure),
}

/// What a source's script made of a request.
enum Mapped {
    /// The submission to ingest, or `None` when it returned nothing to send.
    Events {
        bytes: Option<Vec<u8>>,
        logs: Vec<String>,
    },
    /// It threw, ran past a limit, or answered something that is no event list.
    Failed { error: String, logs: Vec<String> },
}

/// A source as created or updated, with its generated secret to show once.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub source: SourceView,
    pub secret: Option<String>,
}

/// What a script made of a sample request, ingesting nothing: the events as they would be
/// delivered, or why there are none; and what it logged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DryRun {
    pub events: Vec<Value>,
    pub error: Option<String>,
    pub logs: Vec<String>,
}

impl Sources {
    pub async fn create(&self, body: &Value) -> Result<Saved, SourcesError> {
        let now = self.clock.now();
        let (source, secret) = parse_new(body, now, self.entropy.u128(), self.entropy.bytes32())
            .map_err(SourcesError::Invalid)?;
        self.check_script(&source.script).await?;
        self.store.put(&source).await?;
        Ok(saved(&source, secret.map(|s| s.expose())))
    }

    pub async fn get(&self, id: &str) -> Result<SourceView, SourcesError> {
        Ok(self.find(id).await?.to_view())
    }

    pub async fn list(&self, page: PageRequest) -> Result<Page<SourceView>, SourcesError> {
        let page = self.store.list(page).await?;
        Ok(Page {
            items: page.items.iter().map(Source::to_view).collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn update(&self, id: &str, body: &Value) -> Result<Saved, SourcesError> {
        let current = self.find(id).await?;
        let (next, secret) = apply_patch(&current, body, self.clock.now(), self.entropy.bytes32())
            .map_err(SourcesError::Invalid)?;
        if next.script != current.script {
            self.check_script(&next.script).await?;
        }
        self.store.put(&next).await?;
        Ok(saved(&next, secret.map(|s| s.expose())))
    }

    pub async fn delete(&self, id: &str) -> Result<(), SourcesError> {
        let id = parse_id(id)?;
        if self.store.delete(&id).await? {
            Ok(())
        } else {
            Err(SourcesError::NotFound(id.to_string()))
        }
    }

    /// The source's failed requests, newest first.
    pub async fn failures(
        &self,
        id: &str,
        page: PageRequest,
    ) -> Result<Page<SourceFailure>, SourcesError> {
        let source = self.find(id).await?;
        Ok(self
            .store
            .failures(&source.id, page, self.clock.now())
            .await?)
    }

    /// Runs `script` (a stored source's when `None`) over a sample request, unverified, and
    /// validates its events as ingest would, ingesting nothing.
    pub async fn dry_run(
        &self,
        id: &str,
        script: Option<&str>,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<DryRun, SourcesError> {
        let source = self.find(id).await?;
        let script = script.unwrap_or(&source.script);
        let now = self.clock.now();
        let request = InboundRequest {
            headers,
            body,
            received_at: now,
        };
        let (bytes, logs) = match self
            .map(&source, script, &request)
            .await
            .map_err(SourcesError::Busy)?
        {
            Mapped::Events { bytes, logs } => (bytes, logs),
            Mapped::Failed { error, logs } => return Ok(dry(Vec::new(), Some(error), logs)),
        };
        let Some(bytes) = bytes else {
            return Ok(dry(Vec::new(), None, logs));
        };
        let limits = &self.ingest.settings.limits;
        let mut random = || self.entropy.u128();
        Ok(match parse_submission(&bytes, limits, now, &mut random) {
            Ok(events) => {
                let events = events
                    .iter()
                    .filter_map(|e| serde_json::from_slice(&e.to_body()).ok())
                    .collect();
                dry(events, None, logs)
            }
            Err(error) => dry(Vec::new(), Some(error.to_string()), logs),
        })
    }

    /// What `script` makes of `request` to `source`: the submission to ingest (`None`:
    /// nothing to send) and what it logged, or why it made none; `Err` when the sandbox was
    /// too busy to run it.
    async fn map(
        &self,
        source: &Source,
        script: &str,
        request: &InboundRequest<'_>,
    ) -> Result<Mapped, String> {
        let input = script_input(source, request);
        let run = match self.scripts.run(script, input, request.received_at).await {
            Ok(run) => run,
            Err(failure) if failure.busy => return Err(failure.message),
            Err(failure) => {
                return Ok(Mapped::Failed {
                    error: failure.message,
                    logs: failure.logs,
                })
            }
        };
        Ok(
            match submission(run.output.as_deref(), source.origin.as_deref()) {
                Ok(bytes) => Mapped::Events {
                    bytes,
                    logs: run.logs,
                },
                Err(error) => Mapped::Failed {
                    error,
                    logs: run.logs,
                },
            },
        )
    }

    /// `POST /v1/inbound/{source_id}`. `headers` carry lower-case names.
    pub async fn receive(
        &self,
        id: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Inbound, InboundError> {
        let now = self.clock.now();
        let missing = || InboundError::NotFound(id.to_owned());
        let id = SourceId::parse(id).map_err(|_| missing())?;
        let source = self
            .store
            .get(&id)
            .await?
            .filter(|s| s.enabled)
            .ok_or_else(missing)?;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        source.verification.check(header, body, now)?;
        let request = InboundRequest {
            headers,
            body,
            received_at: now,
        };
        let (bytes, logs) = match self
            .map(&source, &source.script, &request)
            .await
            .map_err(InboundError::Busy)?
        {
            Mapped::Events {
                bytes: Some(bytes),
                logs,
            } => (bytes, logs),
            Mapped::Events { bytes: None, .. } => return Ok(Inbound::Accepted(Vec::new())),
            Mapped::Failed { error, logs } => {
                let failed = (FailureKind::Script, error);
                return self.failed(&source, &request, failed, logs).await;
            }
        };
        let request_id = request_id(&source.id, body);
        let signed = SignedRequest {
            id: &request_id,
            at: now,
        };
        match self.ingest.ingest(&bytes, Some(signed), None).await {
            Ok(accepted) => Ok(Inbound::Accepted(accepted)),
            Err(IngestError::Unavailable(e)) => Err(InboundError::Unavailable(e)),
            Err(IngestError::Invalid(error)) => {
                let failed = (FailureKind::Events, events_error(&error));
                self.failed(&source, &request, failed, logs).await
            }
            Err(IngestError::Unauthorized(e)) => {
                let failed = (FailureKind::Events, e.to_string());
                self.failed(&source, &request, failed, logs).await
            }
        }
    }

    async fn failed(
        &self,
        source: &Source,
        request: &InboundRequest<'_>,
        failed: (FailureKind, String),
        logs: Vec<String>,
    ) -> Result<Inbound, InboundError> {
        let failure = SourceFailure::new(&source.id, request, failed, logs, self.entropy.u128());
        // The source id and the kind only: the message is the script's, and may quote the
        // request it was given.
        tracing::warn!(source = %source.id, kind = ?failure.kind, "inbound request failed");
        self.store.record_failure(&failure).await?;
        Ok(Inbound::Failed(failure))
    }

    async fn find(&self, id: &str) -> Result<Source, SourcesError> {
        let id = parse_id(id)?;
        self.store
            .get(&id)
            .await?
            .ok_or_else(|| SourcesError::NotFound(id.to_string()))
    }

    async fn check_script(&self, script: &str) -> Result<(), SourcesError> {
        match self.scripts.check(script).await {
            Ok(()) => Ok(()),
            Err(failure) if failure.busy => Err(SourcesError::Busy(failure.message)),
            Err(failure) => Err(SourcesError::Invalid(vec![FieldError::new(
                "script",
                failure.message,
            )])),
        }
    }
}

fn parse_id(id: &str) -> Result<SourceId, SourcesError> {
    SourceId::parse(id).map_err(|_| SourcesError::NotFound(id.to_owned()))
}

fn saved(source: &Source, secret: Option<String>) -> Saved {
    Saved {
        source: source.to_view(),
        secret,
    }
}

fn dry(events: Vec<Value>, error: Option<String>, logs: Vec<String>) -> DryRun {
    DryRun {
        events,
        error,
        logs,
    }
}

/// What is wrong with the script's events, as the API would have said it.
fn events_error(error: &SubmissionError) -> String {
    format!("the script's events were refused: {error}")
}
