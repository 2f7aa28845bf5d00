//! The demo page (`/`) and the small Socket.IO client it loads
//! (`/siosim-client.js`), both compiled into the binary: the page must work
//! offline, so nothing is fetched from a CDN.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

/// Path the client module is served at.
pub const CLIENT_SCRIPT_PATH: &str = "/siosim-client.js";

const INDEX_HTML: &str = include_str!("page/index.html");
const CLIENT_JS: &str = include_str!("page/client.js");
/// Stands in index.html for the configured Socket.IO path.
const PATH_PLACEHOLDER: &str = "{{SOCKETIO_PATH}}";

/// `/` and the client script, with the page told where Socket.IO answers.
pub(crate) fn routes(socketio_path: &str) -> Router {
    let index = INDEX_HTML.replace(PATH_PLACEHOLDER, &escape_html_attribute(socketio_path));
    Router::new()
        .route("/", get(move || std::future::ready(Html(index))))
        .route(
            CLIENT_SCRIPT_PATH,
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    CLIENT_JS,
                )
                    .into_response()
            }),
        )
}

/// The path is configuration, not user input, but it lands in an HTML
/// attribute: escape it so a path with a quote cannot break the page.
fn escape_html_attribute(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_carries_the_socketio_path() {
        assert!(INDEX_HTML.contains(PATH_PLACEHOLDER));
        assert!(INDEX_HTML.contains(CLIENT_SCRIPT_PATH));
        assert_eq!(
            escape_html_attribute("/a\"<b>&'"),
            "/a&quot;&lt;b&gt;&amp;&#39;"
        );
    }
}
