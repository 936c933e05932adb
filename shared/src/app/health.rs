//! An endpoint's health, as `GET /v1/endpoints/{id}/health` and the console's Endpoints page
//! show it: enabled or why not, its circuit (and since when it is open), the last "it is
//! back" (`recover`), and the last delivery given up on.

use super::admin::{Admin, AdminError};
use crate::domain::circuit::CircuitState;
use futures::future::join_all;

use crate::domain::endpoint::Endpoint;
use crate::ports::{FailureFilter, Page, PageRequest};
use crate::wire::{EndpointHealth, FailureItem};

impl Admin {
    pub async fn endpoint_health(&self, id: &str) -> Result<EndpointHealth, AdminError> {
        let endpoint = self.get_endpoint(id).await?;
        self.health_of(endpoint).await
    }

    /// A page of endpoints' health, in the order and with the cursors of the endpoints list:
    /// one request for what would be one per endpoint, their reads made concurrently.
    pub async fn endpoints_health(
        &self,
        page: PageRequest,
    ) -> Result<Page<EndpointHealth>, AdminError> {
        let endpoints = self.endpoints.list(page).await?;
        let healths = join_all(endpoints.items.into_iter().map(|e| self.health_of(e))).await;
        Ok(Page {
            items: healths.into_iter().collect::<Result<_, _>>()?,
            next_cursor: endpoints.next_cursor,
        })
    }

    async fn health_of(&self, endpoint: Endpoint) -> Result<EndpointHealth, AdminError> {
        let state = self.state.load(&endpoint.id).await?.value;
        let filter = FailureFilter {
            endpoint_id: Some(endpoint.id.clone()),
            ..FailureFilter::default()
        };
        let last = self.failures.list(&filter, PageRequest::first(1)).await?;
        // The circuit counts failures in a row only while closed.
        let failures = match state.circuit {
            CircuitState::Closed { failures } => failures,
            CircuitState::Open { .. } | CircuitState::HalfOpen { .. } => 0,
        };
        Ok(EndpointHealth {
            url: endpoint.url.as_str().to_owned(),
            rate_limit: endpoint.rate_limit,
            circuit: state.circuit.name().to_owned(),
            consecutive_failures: failures,
            open_since: state.circuit.open_since(),
            recovered_at: state.recovered_at,
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason.clone(),
            last_failure: last.items.into_iter().next().map(FailureItem::from),
            id: endpoint.id,
        })
    }
}
