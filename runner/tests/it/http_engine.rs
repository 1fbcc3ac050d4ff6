//! The http engine against local sites: forms filled and submitted as a browser would,
//! cookies, failures that name their step, and sites that hang, flood or babble.

use std::time::Duration;

use runner::domain::{FlowSpec, JobOutcome, JobStatus, Step};
use runner::driver::http::{HttpDriver, HttpOptions};
use runner::driver::{Driver, JobSpec, Progress};
use url::Url;

use crate::support::{garbage_site, hanging_site, test_site};

fn fill(selector: &str, value: &str) -> Step {
    Step::Fill { selector: selector.into(), value: value.into() }
}

fn text(t: &str) -> Step {
    Step::ExpectText { text: t.into() }
}

async fn run_on(base: &str, start: &str, steps: Vec<Step>, options: HttpOptions) -> JobOutcome {
    let driver = HttpDriver::new(&options).unwrap();
    let job = JobSpec {
        job_id: 1,
        site_name: "test".into(),
        base_url: Url::parse(base).unwrap(),
        flow: FlowSpec {
            retries: None,
            interval_secs: None,
            timeout_secs: None,
            name: "f".into(),
            driver: "http".into(),
            start_url: start.into(),
            steps,
        },
        progress: Progress::default(),
    };
    driver.run(&job).await
}

async fn run(base: &str, start: &str, steps: Vec<Step>) -> JobOutcome {
    run_on(base, start, steps, HttpOptions::default()).await
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn fill_and_click_submit_the_form_as_a_browser_would() {
    let site = test_site().await;
    let outcome = run(
        &site.base(),
        "/form",
        vec![
            fill("input[name=name]", "Ada <script>alert(1)</script>"),
            fill("textarea[name=notes]", "ring twice\nthen wait"),
            Step::Select { selector: "select[name=size]".into(), value: "Large".into() },
            fill("input[name=gift]", "yes"),
            fill("input[name=ship][value=fast]", ""),
            Step::Click { selector: "button[name=action]".into() },
            Step::ExpectStatus { status: 200 },
            Step::ExpectUrl { url: "/done".into() },
            text("Received, thank you"),
            Step::ExpectSelector { selector: "p.ok".into() },
            Step::WaitFor { selector: "p.ok".into(), timeout_ms: None },
        ],
    )
    .await;
    assert_eq!(outcome, JobOutcome::passed());
    let received = site.received.lock().unwrap();
    assert_eq!(
        received.submissions,
        [pairs(&[
            ("csrf", "t0k3n"),
            ("name", "Ada <script>alert(1)</script>"),
            ("email", "placeholder@example.com"),
            ("size", "l"),
            ("notes", "ring twice\nthen wait"),
            ("gift", "yes"),
            ("ship", "fast"),
            ("action", "order"),
        ])]
    );
}

#[tokio::test]
async fn submit_without_a_selector_sends_the_first_form_and_defaults() {
    let site = test_site().await;
    let outcome = run(&site.base(), "/form", vec![Step::Submit { selector: None }, text("Received")]).await;
    assert_eq!(outcome, JobOutcome::passed());
    assert_eq!(
        site.received.lock().unwrap().submissions,
        [pairs(&[
            ("csrf", "t0k3n"),
            ("name", ""),
            ("email", "placeholder@example.com"),
            ("size", "m"),
            ("notes", ""),
            ("ship", "std")
        ])]
    );
}

#[tokio::test]
async fn cookies_carry_a_login_through_redirects() {
    let site = test_site().await;
    let login = |password: &str| {
        vec![
            fill("input[name=user]", "ada"),
            fill("input[name=password]", password),
            Step::Submit { selector: None },
            text("Secret area"),
        ]
    };
    assert_eq!(run(&site.base(), "/login", login("pw")).await, JobOutcome::passed());
    let wrong = run(&site.base(), "/login", login("nope")).await;
    assert_eq!((wrong.status, wrong.failed_step), (JobStatus::Failed, Some(3)));
}

#[tokio::test]
async fn a_failing_expectation_names_its_step() {
    let site = test_site().await;
    let outcome =
        run(&site.base(), "/form", vec![Step::Submit { selector: None }, text("Order confirmed")]).await;
    assert_eq!(outcome.status, JobStatus::Failed);
    assert_eq!(outcome.failed_step, Some(1));
    assert_eq!(
        outcome.reason.as_deref(),
        Some(format!("step 1 (expect_text): text \"Order confirmed\" not found on {}done (HTTP 200, title \"Done\")", site.base()).as_str())
    );
    let missing = run(&site.base(), "/form", vec![fill("#nope", "x")]).await;
    assert_eq!(missing.reason.as_deref(), Some("step 0 (fill): no element matches `#nope`"));
    let js = run(
        &site.base(),
        "/form",
        vec![Step::WaitFor { selector: "#spa-root".into(), timeout_ms: Some(50) }],
    )
    .await;
    assert!(js.reason.as_deref().unwrap().contains("the http engine runs no scripts"), "{js:?}");
}

#[tokio::test]
async fn error_statuses_fail_unless_expected() {
    let site = test_site().await;
    let outcome = run(&site.base(), "/private", vec![]).await;
    assert_eq!((outcome.status, outcome.failed_step), (JobStatus::Failed, None));
    assert_eq!(
        outcome.reason.as_deref(),
        Some(
            format!("start page {0}private: {0}private answered HTTP 403 \"Forbidden\"", site.base())
                .as_str()
        )
    );
    let expected =
        run(&site.base(), "/private", vec![Step::ExpectStatus { status: 403 }, text("log in first")]).await;
    assert_eq!(expected, JobOutcome::passed());
    let wrong = run(&site.base(), "/form", vec![Step::ExpectStatus { status: 201 }]).await;
    assert_eq!(
        wrong.reason.as_deref(),
        Some(format!("step 0 (expect_status): expected HTTP 201, got 200 from {}form", site.base()).as_str())
    );
}

#[tokio::test]
async fn an_oversized_page_is_an_error() {
    let site = test_site().await;
    let options = HttpOptions { max_page_bytes: 1024, ..HttpOptions::default() };
    let outcome = run_on(&site.base(), "/big", vec![], options).await;
    assert_eq!(outcome.status, JobStatus::Error);
    assert_eq!(
        outcome.reason.as_deref(),
        Some(
            format!(
                "start page {0}big: the page at {0}big is larger than the 1024 byte limit (--max-page-bytes)",
                site.base()
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn a_hanging_site_times_out_with_a_reason() {
    let addr = hanging_site().await;
    let options = HttpOptions { read_timeout: Duration::from_millis(500), ..HttpOptions::default() };
    let outcome = run_on(&format!("http://{addr}/"), "/", vec![], options).await;
    assert_eq!(outcome.status, JobStatus::TimedOut);
    let reason = outcome.reason.unwrap();
    assert!(
        reason
            .starts_with(&format!("start page http://{addr}/: GET http://{addr}/: no answer within 500ms (")),
        "{reason}"
    );
}

#[tokio::test]
async fn a_garbage_site_is_an_error_with_a_reason() {
    let addr = garbage_site().await;
    let outcome = run(&format!("http://{addr}/"), "/", vec![]).await;
    assert_eq!(outcome.status, JobStatus::Error);
    let reason = outcome.reason.unwrap();
    assert!(
        reason.starts_with(&format!("start page http://{addr}/: GET http://{addr}/ failed: ")),
        "{reason}"
    );
    assert!(reason.to_lowercase().contains("invalid") || reason.contains("parse"), "{reason}");
}

#[tokio::test]
async fn a_closed_port_is_an_error_with_a_reason() {
    let port = promkit_oracle::free_port();
    let outcome = run(&format!("http://127.0.0.1:{port}/"), "/", vec![]).await;
    assert_eq!(outcome.status, JobStatus::Error);
    let reason = outcome.reason.unwrap();
    assert!(
        reason.starts_with(&format!("start page http://127.0.0.1:{port}/: cannot connect to")),
        "{reason}"
    );
}

/// What the upload site saw: each POST's `Content-Type` and raw body, and the `Cookie`
/// header of every request, by path.
#[derive(Debug, Default)]
struct Uploads {
    posts: Vec<(String, Vec<u8>)>,
    cookies: Vec<(String, String)>,
}

/// A site with a `multipart/form-data` form at `/account/upload` that sets cookies with
/// every rule the jar must follow, and records what comes back.
async fn upload_site() -> (String, std::sync::Arc<std::sync::Mutex<Uploads>>) {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, header};
    use axum::response::{Html, IntoResponse, Redirect};
    use axum::routing::get;
    use std::sync::{Arc, Mutex};

    type Seen = Arc<Mutex<Uploads>>;
    fn note(seen: &Seen, path: &str, headers: &HeaderMap) {
        let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        seen.lock().unwrap().cookies.push((path.to_owned(), cookie));
    }
    async fn form(State(seen): State<Seen>, headers: HeaderMap) -> impl IntoResponse {
        note(&seen, "/account/upload", &headers);
        let set = [
            "sid=1; Path=/; HttpOnly",
            "scoped=2; Path=/account",
            "elsewhere=3; Path=/admin",
            "expired=4; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "foreign=5; Path=/; Domain=example.com",
            "dropped=6; Path=/",
        ];
        let mut headers = HeaderMap::new();
        for c in set {
            headers.append(header::SET_COOKIE, c.parse().unwrap());
        }
        let page = r#"<html><body><form method="post" action="/account/upload" enctype="multipart/form-data">
            <input type="hidden" name="csrf" value="t0k">
            <input name="who" value="">
            <textarea name="note"></textarea>
            <input type="file" name="cv">
            <input type="file" name="extra">
            <button name="go" value="send">Send</button>
          </form></body></html>"#;
        (headers, Html(page))
    }
    async fn post(State(seen): State<Seen>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
        note(&seen, "/account/upload (POST)", &headers);
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        seen.lock().unwrap().posts.push((ct, body.to_vec()));
        ([(header::SET_COOKIE, "dropped=; Path=/; Max-Age=0")], Redirect::to("/done"))
    }
    async fn done(State(seen): State<Seen>, headers: HeaderMap) -> Html<&'static str> {
        note(&seen, "/done", &headers);
        Html("<p>Uploaded</p>")
    }
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/account/upload", get(form).post(post))
        .route("/done", get(done))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), seen)
}

fn attach(selector: &str, file: Option<&str>, content: Option<&str>, filename: Option<&str>) -> Step {
    Step::Attach {
        selector: selector.into(),
        file: file.map(Into::into),
        content: content.map(Into::into),
        filename: filename.map(Into::into),
        content_type: None,
    }
}

#[tokio::test]
async fn multipart_forms_upload_files_as_a_browser_would_and_cookies_follow_the_rules() {
    let (base, seen) = upload_site().await;
    let files = tempfile::tempdir().unwrap();
    std::fs::create_dir(files.path().join("cvs")).unwrap();
    std::fs::write(files.path().join("cvs").join("ada.pdf"), b"%PDF-1.7\x00\xff binary").unwrap();
    let options = HttpOptions {
        files: runner::driver::files::FilesDir::new(Some(files.path().to_owned())),
        ..HttpOptions::default()
    };
    let steps = vec![
        fill("input[name=who]", "Ada \"L\""),
        fill("textarea[name=note]", "two\nlines"),
        attach("input[name=cv]", Some("cvs/ada.pdf"), None, None),
        Step::Click { selector: "button[name=go]".into() },
        text("Uploaded"),
    ];
    let outcome = run_on(&base, "/account/upload", steps, options.clone()).await;
    assert_eq!(outcome, JobOutcome::passed());

    let seen = seen.lock().unwrap();
    let (content_type, body) = &seen.posts[0];
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=").expect(content_type);
    assert!(boundary.starts_with("----WebKitFormBoundary"), "{content_type}");
    let mut want = Vec::new();
    for (name, value) in [("csrf", "t0k"), ("who", "Ada \"L\""), ("note", "two\r\nlines")] {
        want.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    want.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"ada.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    want.extend_from_slice(b"%PDF-1.7\x00\xff binary\r\n");
    want.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"extra\"; filename=\"\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"go\"\r\n\r\nsend\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(body), String::from_utf8_lossy(&want));
    assert_eq!(body, &want);

    // Cookies: none on the first request; then by path (`scoped` under /account only, never
    // `elsewhere`), never the expired one nor another domain's; `dropped` deleted by
    // Max-Age=0 on the way to /done.
    let cookies = |path: &str| {
        let raw = &seen.cookies.iter().find(|(p, _)| p == path).unwrap().1;
        let mut v: Vec<&str> = raw.split("; ").filter(|c| !c.is_empty()).collect();
        v.sort_unstable();
        v.join("; ")
    };
    assert_eq!(cookies("/account/upload"), "");
    assert_eq!(cookies("/account/upload (POST)"), "dropped=6; scoped=2; sid=1");
    assert_eq!(cookies("/done"), "sid=1");
}

#[tokio::test]
async fn attach_gives_inline_content_and_refuses_paths_out_of_the_files_dir() {
    let (base, seen) = upload_site().await;
    let steps = vec![
        attach("input[name=extra]", None, Some("a,b\n1,2\n"), Some("rows.csv")),
        Step::Submit { selector: None },
        text("Uploaded"),
    ];
    assert_eq!(run(&base, "/account/upload", steps).await, JobOutcome::passed());
    let body = String::from_utf8(seen.lock().unwrap().posts[0].1.clone()).unwrap();
    assert!(
        body.contains(
            "name=\"extra\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n--"
        ),
        "{body}"
    );

    let files = tempfile::tempdir().unwrap();
    let options = HttpOptions {
        files: runner::driver::files::FilesDir::new(Some(files.path().to_owned())),
        ..HttpOptions::default()
    };
    for (path, why) in [("../etc/passwd", "by `..`"), ("/etc/passwd", "is absolute")] {
        let steps = vec![attach("input[name=cv]", Some(path), None, None)];
        let outcome = run_on(&base, "/account/upload", steps, options.clone()).await;
        assert_eq!((outcome.status, outcome.failed_step), (JobStatus::Error, Some(0)), "{outcome:?}");
        assert!(outcome.reason.as_deref().unwrap().contains(why), "{outcome:?}");
    }
    let none =
        run(&base, "/account/upload", vec![attach("input[name=cv]", Some("cv.pdf"), None, None)]).await;
    assert!(none.reason.as_deref().unwrap().contains("no --files-dir"), "{none:?}");
    let wrong = run(&base, "/account/upload", vec![attach("input[name=who]", None, Some("x"), None)]).await;
    assert_eq!(
        wrong.reason.as_deref(),
        Some(
            "step 0 (attach): <input name=\"who\"> matched by `input[name=who]` is not an <input type=\"file\">"
        )
    );
}
