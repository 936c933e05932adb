//! The tenant portal's use cases: the admin's, narrowed to one tenant's endpoints. Whatever
//! the request names, an endpoint, failure or delivery of another tenant is "not found", so
//! a portal user cannot even learn that it exists.

use serde_json::Value;

use super::admin::{Admin, AdminError};
use crate::domain::delivery::FailureRecord;
use crate::domain::delivery_log::{LogEntry, LogQuery};
use crate::domain::endpoint::Endpoint;
use crate::domain::ids::EndpointId;
use crate::domain::portal::{own_tenant, Grant};
use crate::domain::signature::Secret;
use crate::domain::validation::FieldError;
use crate::ports::{list_all_endpoints, FailureFilter, Page, PageRequest};

/// Underlying failure pages one portal page reads at most, looking for the tenant's.
const FAILURE_PAGES_PER_CALL: usize = 10;

/// A portal link: its token and until when it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLink {
    pub token: String,
    pub grant: Grant,
}

impl Admin {
    /// `POST /v1/portal-links`: a signed token for one tenant, or `NotConfigured` where no
    /// portal key is set.
    pub async fn portal_link(
        &self,
        tenant_id: &str,
        ttl_secs: i64,
    ) -> Result<PortalLink, AdminError> {
        let key = self
            .settings
            .portal_key
            .as_ref()
            .ok_or(AdminError::NotConfigured("the tenant portal"))?;
        let grant =
            Grant::new(tenant_id, ttl_secs, self.clock.now()).map_err(AdminError::Invalid)?;
        Ok(PortalLink {
            token: grant.sign(key),
            grant,
        })
    }

    /// The tenant's endpoint `id`; another tenant's is not found.
    pub async fn tenant_endpoint(&self, tenant: &str, id: &str) -> Result<Endpoint, AdminError> {
        let endpoint = self.get_endpoint(id).await?;
        if endpoint.belongs_to(tenant) {
            Ok(endpoint)
        } else {
            Err(AdminError::NotFound(format!("endpoint {id}")))
        }
    }

    /// Every endpoint of the tenant, in id order. The store has no index by tenant, so this
    /// reads them all: fine for the endpoint counts authhooks is built for (thousands).
    pub async fn tenant_endpoints(&self, tenant: &str) -> Result<Vec<Endpoint>, AdminError> {
        let all = list_all_endpoints(self.endpoints.as_ref()).await?;
        Ok(all.into_iter().filter(|e| e.belongs_to(tenant)).collect())
    }

    /// Creates an endpoint of the tenant: a `tenant_id` in the body must be the tenant's own.
    pub async fn create_tenant_endpoint(
        &self,
        tenant: &str,
        body: &Value,
    ) -> Result<(Endpoint, Secret), AdminError> {
        let mut body = body.clone();
        operators_only(&body)?;
        if let Some(fields) = body.as_object_mut() {
            own_tenant(fields.get("tenant_id"), tenant, true).map_err(invalid)?;
            fields.insert("tenant_id".into(), Value::String(tenant.to_owned()));
        }
        self.create_endpoint(&body).await
    }

    /// Changes the tenant's endpoint; it cannot be moved to another tenant.
    pub async fn update_tenant_endpoint(
        &self,
        tenant: &str,
        id: &str,
        body: &Value,
    ) -> Result<Endpoint, AdminError> {
        self.tenant_endpoint(tenant, id).await?;
        operators_only(body)?;
        own_tenant(body.get("tenant_id"), tenant, false).map_err(invalid)?;
        self.update_endpoint(id, body).await
    }

    /// The log of the tenant's endpoints only; an `endpoint_id` of another tenant finds
    /// nothing.
    pub async fn search_tenant_deliveries(
        &self,
        tenant: &str,
        query: LogQuery,
        page: PageRequest,
    ) -> Result<Page<LogEntry>, AdminError> {
        let ids = self.tenant_ids(tenant).await?;
        let query = LogQuery {
            endpoint_ids: Some(ids),
            ..query
        };
        self.search_deliveries(&query, page).await
    }

    /// The tenant's failures, newest first. Without an endpoint named, the failures list is
    /// read page by page and the tenant's kept, so a page may be short (or empty, with a
    /// cursor) but never holds another tenant's.
    pub async fn list_tenant_failures(
        &self,
        tenant: &str,
        endpoint_id: Option<&str>,
        mut page: PageRequest,
    ) -> Result<Page<FailureRecord>, AdminError> {
        if let Some(id) = endpoint_id {
            let endpoint = self.tenant_endpoint(tenant, id).await?;
            let filter = FailureFilter {
                endpoint_id: Some(endpoint.id),
                ..FailureFilter::default()
            };
            return self.list_failures(&filter, page).await;
        }
        let ids = self.tenant_ids(tenant).await?;
        let mut items = Vec::new();
        for _ in 0..FAILURE_PAGES_PER_CALL {
            let got = self
                .list_failures(&FailureFilter::default(), page.clone())
                .await?;
            items.extend(
                got.items
                    .into_iter()
                    .filter(|f| ids.contains(&f.endpoint_id)),
            );
            page.cursor = got.next_cursor;
            if !items.is_empty() || page.cursor.is_none() {
                break;
            }
        }
        Ok(Page {
            items,
            next_cursor: page.cursor,
        })
    }

    /// Replays the tenant's failure `id`; another tenant's is not found.
    pub async fn replay_tenant_failure(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<String, AdminError> {
        let failure = self
            .failures
            .get(id)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("failure {id}")))?;
        self.tenant_endpoint(tenant, failure.endpoint_id.as_str())
            .await
            .map_err(|_| AdminError::NotFound(format!("failure {id}")))?;
        self.replay_failure(id).await
    }

    async fn tenant_ids(&self, tenant: &str) -> Result<Vec<EndpointId>, AdminError> {
        Ok(self
            .tenant_endpoints(tenant)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect())
    }
}

fn invalid(error: FieldError) -> AdminError {
    AdminError::Invalid(vec![error])
}

/// A transformation runs on the operator's machines, so only the operator sets one: a
/// tenant's body naming `transform` is refused.
fn operators_only(body: &Value) -> Result<(), AdminError> {
    match body.get("transform") {
        Some(_) => Err(AdminError::Invalid(vec![FieldError::new(
            "transform",
            "is set by the operator, not through the portal",
        )])),
        None => Ok(()),
    }
}
