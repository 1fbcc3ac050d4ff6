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
