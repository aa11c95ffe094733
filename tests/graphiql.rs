//! GraphiQL works offline: headless Chromium (Debian's `chromium`, installed by `.ci/run`) loads
//! `GET /graphql` with every host but 127.0.0.1 unresolvable, the editor renders, a token goes
//! into the Headers pane, the run button sends the query and the response pane shows the
//! server's data. Chromium is driven over the DevTools protocol.

mod support;

use domain::access::Role;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{postgres_source, TestApp, REGISTER};
use tokio_tungstenite::tungstenite::Message;

const CHROMIUM: &str = "/usr/bin/chromium";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A headless Chromium of this test, with its own profile; killed and removed on drop.
struct Browser {
    child: Child,
    profile: PathBuf,
    page: Socket,
    next_id: u64,
}

impl Browser {
    async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: run .ci/run once (it installs Debian's chromium package)"
        );
        let profile = std::env::temp_dir().join(format!(
            "pursight-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(CHROMIUM)
            .args([
                "--headless=new",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.display()),
                // Nothing but this machine resolves: a page that needs a CDN cannot load.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose (and the browser's path) into the profile.
        let active = profile.join("DevToolsActivePort");
        let mut port = None;
        for _ in 0..300 {
            if let Ok(text) = std::fs::read_to_string(&active) {
                if let Some(p) = text
                    .lines()
                    .next()
                    .and_then(|l| l.trim().parse::<u16>().ok())
                {
                    port = Some(p);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let port = port.expect("chromium wrote DevToolsActivePort");
        let targets: Value = reqwest::get(format!("http://127.0.0.1:{port}/json/list"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page_url = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (page, _) = tokio_tungstenite::connect_async(page_url).await.unwrap();
        Self {
            child,
            profile,
            page,
            next_id: 1,
        }
    }

    /// Sends one DevTools command and returns its result (events in between are skipped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.page.send(Message::text(message)).await.unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), self.page.next())
                .await
                .expect("chromium answers")
                .expect("the DevTools connection is open")
                .unwrap();
            let Message::Text(text) = message else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == id {
                assert!(reply["error"].is_null(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// Evaluates `expression` in the page and returns its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is true; panics with `what` and `diagnose`'s value after
    /// 30 s.
    async fn wait_for(&mut self, what: &str, expression: &str, diagnose: &str) {
        for _ in 0..300 {
            if self.eval(expression).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let state = self.eval(diagnose).await;
        panic!("{what} did not happen; the page shows: {state}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The CodeMirror editor inside the first element matching `selector` that is not hidden.
fn editor(selector: &str) -> String {
    format!(
        "[...document.querySelectorAll('{selector}')].find(e => !e.classList.contains('hidden')).querySelector('.CodeMirror').CodeMirror"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_renders_offline_and_runs_a_query_with_the_token_header() {
    let app = TestApp::spawn().await;
    let admin = TestApp::token("acme", &[Role::Admin]);
    let registered = app
        .gql(
            Some(&admin),
            REGISTER,
            json!({ "input": postgres_source("Browser test source"), "wait": true }),
        )
        .await;
    assert!(registered["errors"].is_null(), "{registered}");

    let mut browser = Browser::start().await;
    let query = "{ dataSources { name } }";
    let url = format!(
        "{}?query={}",
        app.url("/graphql"),
        query
            .replace(' ', "%20")
            .replace('{', "%7B")
            .replace('}', "%7D")
    );
    browser.call("Page.navigate", json!({ "url": url })).await;
    let body = "document.body.innerText.slice(0, 500)";
    browser
        .wait_for(
            "the editor rendering",
            "document.querySelectorAll('.CodeMirror').length >= 3 && !!document.querySelector('.graphiql-execute-button')",
            body,
        )
        .await;
    let query_editor = editor(".graphiql-query-editor");
    assert_eq!(
        browser.eval(&format!("{query_editor}.getValue()")).await,
        query
    );
    // The Headers pane is open and shows where the token goes.
    let headers = editor(".graphiql-editor-tool .graphiql-editor");
    let template = browser.eval(&format!("{headers}.getValue()")).await;
    assert!(
        template.as_str().unwrap().contains("Authorization"),
        "{template}"
    );
    let value = serde_json::to_string(&json!({ "Authorization": format!("Bearer {admin}") }))
        .unwrap()
        .replace('\'', "\\'");
    browser
        .eval(&format!("{headers}.setValue('{value}'); true"))
        .await;
    browser
        .eval("document.querySelector('.graphiql-execute-button').click(); true")
        .await;
    let response = format!("{}.getValue()", editor(".graphiql-response"));
    browser
        .wait_for(
            "the response pane showing the server's data",
            &format!("{response}.includes('Browser test source')"),
            &response,
        )
        .await;
    let shown: Value =
        serde_json::from_str(browser.eval(&response).await.as_str().unwrap()).unwrap();
    assert_eq!(
        shown["data"]["dataSources"][0]["name"],
        "Browser test source"
    );
    drop(browser);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_assets_are_served_from_the_binary_with_types_and_cache_headers() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(!html.contains("https://"), "{html}");
    for (file, content_type) in [
        ("graphiql.min.js", "text/javascript"),
        ("graphiql.min.css", "text/css"),
        ("react.production.min.js", "text/javascript"),
        ("react-dom.production.min.js", "text/javascript"),
        ("pursight.js", "text/javascript"),
    ] {
        assert!(html.contains(&format!("graphql/assets/{file}")), "{file}");
        let asset = app
            .client
            .get(app.url(&format!("/graphql/assets/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status().as_u16(), 200, "{file}");
        let headers = asset.headers();
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type));
        assert!(headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age="));
        assert!(!asset.bytes().await.unwrap().is_empty());
    }
    let missing = app
        .client
        .get(app.url("/graphql/assets/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    app.stop().await;
}
