//! GraphiQL served from the binary: the page and its pinned assets (vendored under
//! `api/assets/graphiql/`, see the README there) are embedded at build time, so `GET /graphql`
//! works on machines without internet access and never loads code from a CDN.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file: name under `/graphql/assets/`, content type, bytes.
type Asset = (&'static str, &'static str, &'static [u8]);

const ASSETS: &[Asset] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "pursight.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/pursight.js"),
    ),
];

const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// Only this server's own files; inline styles are GraphiQL's (React sets `style` attributes),
/// fonts and icons are `data:` URLs in its CSS.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `GET /graphql`: the page.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphql/assets/{file}`: an embedded asset. The versions are pinned in the binary, so
/// the files may be cached for as long as it runs; a new binary with other files is a new
/// deployment (and the browser revalidates the page, which is `no-cache`).
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page and every script it loads are local; no CDN address remains anywhere.
    #[test]
    fn nothing_is_loaded_from_a_cdn() {
        let cdns = [
            "unpkg.com",
            "jsdelivr.net",
            "cdnjs",
            "esm.sh",
            "googleapis",
            "skypack",
        ];
        for text in std::iter::once(PAGE.as_bytes()).chain(ASSETS.iter().map(|a| a.2)) {
            let text = String::from_utf8_lossy(text);
            for cdn in cdns {
                assert!(!text.contains(cdn), "{cdn} is named");
            }
        }
        for src in PAGE
            .split("src=\"")
            .skip(1)
            .chain(PAGE.split("href=\"").skip(1))
        {
            let path = src.split('"').next().unwrap();
            let name = path.strip_prefix("graphql/assets/").expect(path);
            assert!(ASSETS.iter().any(|a| a.0 == name), "{name} is not embedded");
        }
    }
}
