//! A minimal HTTP/1.1 client connection (hyper's), for long-polling and for
//! REST calls. Only status, content type and body are kept: headers such as
//! `Date` read the server's wall clock and would break replay.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::ClientError;
use super::connector::Connector;

/// What the harness keeps of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One kept-alive HTTP/1.1 connection.
#[derive(Debug)]
pub struct HttpConnection {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
    headers: Vec<(String, String)>,
    driver: tokio::task::JoinHandle<()>,
}

impl HttpConnection {
    pub async fn open(connector: &Connector) -> Result<Self, ClientError> {
        let stream = connector
            .connect()
            .await
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ClientError::Http(with_causes(&e)))?;
        let driver = tokio::task::spawn_local(async move {
            // The connection ends when either side closes it; errors surface
            // through the pending request, so nothing is lost here.
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            authority: connector.authority(),
            headers: connector.headers().to_vec(),
            driver,
        })
    }

    /// Sends one request and reads at most `body_limit` bytes of the answer.
    pub async fn request(
        &mut self,
        method: &str,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Bytes,
        body_limit: usize,
    ) -> Result<HttpResponse, ClientError> {
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(hyper::header::HOST, &self.authority);
        if let Some(content_type) = content_type {
            builder = builder.header(hyper::header::CONTENT_TYPE, content_type);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| ClientError::Http(with_causes(&e)))?;
        self.sender
            .ready()
            .await
            .map_err(|e| ClientError::Http(with_causes(&e)))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| ClientError::Http(with_causes(&e)))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), body_limit)
            .collect()
            .await
            .map_err(|e| {
                ClientError::Http(format!(
                    "reading the body (limit {body_limit} bytes): {}",
                    with_causes(&*e)
                ))
            })?
            .to_bytes();
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }
}

/// An error and its causes, `outer: inner: …`: hyper's own message alone
/// ("error reading a body from connection") hides what happened (a reset).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

impl Drop for HttpConnection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}
