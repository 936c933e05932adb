//! The HTTP client for the admin API and ingest: bearer auth, JSON in, answers decoded into
//! their `authhooks::wire` types, problem+json answers decoded into `CliError::Api`, and
//! transport failures worded as "cannot reach …".

use std::error::Error as _;
use std::io::ErrorKind;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, Method, RequestBuilder, Url};
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_json::Value;

use crate::error::CliError;
use crate::problem::problem;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8787";
/// Long enough for a cold Lambda behind a Function URL; a local server answers in ms.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the server is and the credentials for it, given before the command. Not `global`:
/// after `endpoints add|update`, `--url` names the endpoint's URL, and `dev` has its own
/// `--admin-token` and `--ingest-secret`, so propagated copies would collide. The commands
/// that use a credential also accept it after their name ([`Token`], `send`'s own flag).
#[derive(clap::Args, Debug, Clone)]
pub struct Conn {
    /// Base URL of the authhooks server (ingest and admin API); give it before the command
    #[arg(long, env = "AUTHHOOKS_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Bearer token of the admin API
    #[arg(long, env = "AUTHHOOKS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Secret (whsec_…) that signs what `send` posts to ingest
    #[arg(long, env = "AUTHHOOKS_INGEST_SECRET", hide_env_values = true)]
    pub ingest_secret: Option<String>,
}

/// `--admin-token` after a command's name; it wins over the one before.
#[derive(clap::Args, Debug, Clone)]
pub struct Token {
    /// Bearer token of the admin API [env: AUTHHOOKS_ADMIN_TOKEN]
    #[arg(long = "admin-token", value_name = "ADMIN_TOKEN", global = true)]
    pub admin_token: Option<String>,
}

impl Token {
    pub fn over(self, conn: &Conn) -> Conn {
        Conn {
            admin_token: self.admin_token.or_else(|| conn.admin_token.clone()),
            ..conn.clone()
        }
    }
}

/// One server, reached with or without a bearer token.
pub struct Api {
    http: Client,
    base: Url,
    token: Option<HeaderValue>,
    /// The region to sign for, when the admin API is an IAM-authenticated Function URL.
    iam_region: Option<String>,
    unauthorized_hint: &'static str,
}

impl Api {
    pub fn admin(conn: &Conn) -> Result<Self, CliError> {
        let token = match &conn.admin_token {
            Some(token) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        CliError::usage("--admin-token contains characters not allowed in a header")
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let hint = if token.is_some() {
            "check --admin-token (or AUTHHOOKS_ADMIN_TOKEN)"
        } else {
            "pass --admin-token or set AUTHHOOKS_ADMIN_TOKEN (`authhooks dev` prints it)"
        };
        let mut api = Self::new(&conn.url, token, hint)?;
        if api.token.is_none() {
            api.iam_region = crate::sigv4::function_url_region(&api.base);
            if api.iam_region.is_some() {
                api.unauthorized_hint =
                    "the admin Function URL uses IAM: check your AWS credentials and their lambda:InvokeFunctionUrl permission";
            }
        }
        Ok(api)
    }

    /// For ingest, which authenticates the request's signature rather than a token.
    pub fn ingest(url: &str) -> Result<Self, CliError> {
        Self::new(
            url,
            None,
            "check --ingest-secret (or AUTHHOOKS_INGEST_SECRET) and this machine's clock",
        )
    }

    fn new(
        url: &str,
        token: Option<HeaderValue>,
        unauthorized_hint: &'static str,
    ) -> Result<Self, CliError> {
        let base = Url::parse(url).map_err(|e| CliError::usage(format!("--url {url}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(CliError::usage(format!(
                "--url {url}: must be an http:// or https:// URL"
            )));
        }
        let http = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CliError::Protocol {
                url: url.to_owned(),
                reason: format!("cannot set up the HTTP client: {e}"),
            })?;
        Ok(Self {
            http,
            base,
            token,
            iam_region: None,
            unauthorized_hint,
        })
    }

    /// `<base>/<segments…>`, each segment percent-encoded (ids come from the user).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// GET with the query parameters that are set.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, Option<String>)],
    ) -> Result<T, CliError> {
        let mut url = self.url(segments);
        for (name, value) in query {
            if let Some(value) = value {
                url.query_pairs_mut().append_pair(name, value);
            }
        }
        self.execute(self.http.get(url)).await
    }

    /// A JSON request; an empty answer (`204`) decodes as JSON `null`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<T, CliError> {
        let mut request = self.http.request(method, self.url(segments));
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        self.execute(request).await
    }

    /// POSTs a pre-serialized JSON body with extra (signature) headers.
    pub async fn post_signed<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: Vec<u8>,
        headers: &[(&'static str, String)],
    ) -> Result<T, CliError> {
        let mut request = self
            .http
            .post(self.url(segments))
            .header(CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.execute(request.body(body)).await
    }

    async fn execute<T: DeserializeOwned>(
        &self,
        mut request: RequestBuilder,
    ) -> Result<T, CliError> {
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, token.clone());
        }
        let mut request = request.build().map_err(|e| CliError::Protocol {
            url: self.shown(),
            reason: format!("cannot build the request: {e}"),
        })?;
        if let Some(region) = &self.iam_region {
            let identity = crate::sigv4::identity().await?;
            crate::sigv4::sign_request(
                &mut request,
                &identity,
                region,
                std::time::SystemTime::now(),
            )?;
        }
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| CliError::Unreachable {
                url: self.shown(),
                reason: transport_reason(&e),
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| CliError::Protocol {
            url: self.shown(),
            reason: format!("the answer broke off: {}", transport_reason(&e)),
        })?;
        if !status.is_success() {
            return Err(problem(status, &body, self.unauthorized_hint));
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        serde_json::from_slice(body).map_err(|e| CliError::Protocol {
            url: self.shown(),
            reason: match e.classify() {
                Category::Data => format!(
                    "HTTP {} with a body not in the documented shape ({e})",
                    status.as_u16()
                ),
                _ => format!(
                    "HTTP {} with a body that is not JSON ({e})",
                    status.as_u16()
                ),
            },
        })
    }

    /// The base URL as the user would recognise it (no trailing slash on a bare host).
    fn shown(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }
}

/// The innermost useful cause: "connection refused" rather than reqwest's "error sending
/// request for url (…)", which repeats the URL and hides the reason.
fn transport_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".into();
    }
    let mut last = None;
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused".into(),
                ErrorKind::ConnectionReset => "connection reset".into(),
                ErrorKind::ConnectionAborted => "connection aborted".into(),
                ErrorKind::TimedOut => "timed out".into(),
                _ => io.to_string(),
            };
        }
        last = Some(cause);
        source = cause.source();
    }
    last.map_or_else(|| err.to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_paths_are_percent_encoded() {
        let api = Api::ingest("http://127.0.0.1:1/prefix/").unwrap();
        let url = api.url(&["v1", "endpoints", "a/b?c"]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/prefix/v1/endpoints/a%2Fb%3Fc"
        );
    }
}
