//! The HTML dashboard: every page loaded in headless Chromium on a runner that has run the
//! demo site and a site named like an attack (content checked, nothing of the name runs,
//! screenshots kept under `target/artifacts/`), and the form posts over plain HTTP (CSRF
//! token and write token enforced, nothing stored when refused).

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, Locator};
use runner::driver::webdriver::Chromedriver;
use serde_json::{Value, json};

use crate::page;
use crate::support::{Answer, TestApp, get, post_json, send, start_app, wait_for};
use crate::webdriver::{browser, browser_tools};

const XSS_NAME: &str = "<script>alert(1)</script>";
const XSS_FLOW: &str = "<img src=x onerror=alert(2)>";
/// The add form's submit button.
const SUBMIT: &str = "form[action='/ui/add'] button[type=submit]";

/// `target/artifacts`, where CI keeps files for people to look at.
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir).expect("create target/artifacts");
    dir
}

/// Loads `path` and checks what every page must hold: the title, no dialog opened, and no
/// script but the dashboard's own file.
async fn visit(client: &Client, base: &str, path: &str, title: &str) {
    match client.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        other => panic!("before {path}: a dialog is open: {other:?}"),
    }
    page::goto(client, &format!("{base}{path}"), &format!("{title} · runner")).await;
    match client.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        other => panic!("{path} opened a dialog: {other:?}"),
    }
    let scripts = client
        .execute("return Array.from(document.scripts).map(s => s.src || s.textContent)", vec![])
        .await
        .unwrap();
    let scripts: Vec<String> = serde_json::from_value(scripts).unwrap();
    assert_eq!(scripts, [format!("{base}/ui/assets/app.js")], "{path}: unexpected scripts");
    let images = client
        .execute(
            "return Array.from(document.images).filter(i => !i.src.includes('/screenshot')).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(images, json!(0), "{path}: an <img> other than screenshots (a name's markup rendered?)");
}

/// The page's visible text.
async fn text(client: &Client) -> String {
    page::main_text(client).await
}

/// A screenshot of the whole page (the window grown to its height), saved as `name`.
async fn save_screenshot(client: &Client, name: &str) -> PathBuf {
    // Twice: the page may reflow once the window is taller.
    for _ in 0..2 {
        let dims = client
            .execute(
                "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]",
                vec![],
            )
            .await
            .unwrap();
        let [page, chrome]: [u32; 2] = serde_json::from_value(dims).unwrap();
        client.set_window_size(1280, page.clamp(600, 4000) + chrome).await.unwrap();
    }
    let png = client.screenshot().await.unwrap();
    client.set_window_size(1280, 900).await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let path = artifacts().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("saved {}", path.display());
    path
}

async fn run_status(base: &str, run: i64) -> Option<Value> {
    let run = get(&format!("{base}/api/runs/{run}")).await.json();
    (!matches!(run["status"].as_str(), Some("queued" | "running"))).then_some(run)
}

#[tokio::test]
async fn every_page_renders_in_a_browser() {
    let Some((chromedriver, chromium)) = browser_tools("every_page_renders_in_a_browser") else { return };
    let t: TestApp = start_app(|c| {
        c.demo = true;
        c.chromedriver = Some(chromedriver.clone());
        c.chromium = Some(chromium.clone());
    })
    .await;
    let base = t.base.clone();
    let demo = format!("http://{}/", t.app.demo_addr().unwrap());

    // A site whose names are markup, with an http flow that passes and a browser flow that
    // fails (so the run page has a screenshot).
    let created = post_json(
        &format!("{base}/api/sites"),
        &json!({
            "name": XSS_NAME,
            "base_url": demo,
            "flows": [
                {"name": XSS_FLOW, "start_url": "/contact", "steps": [{"kind": "expect_text", "text": "Contact us"}]},
                {"name": "browser check", "driver": "webdriver", "start_url": "/contact", "steps": [
                    {"kind": "wait_for", "selector": "form", "timeout_ms": 5000},
                    {"kind": "fill", "selector": "input[name=name]", "value": "Ada"},
                    {"kind": "expect_text", "text": "Out of stock"}
                ]}
            ]
        }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let xss_id = created.json()["id"].as_i64().unwrap();
    let run = send(crate::support::client().post(format!("{base}/api/sites/{xss_id}/run"))).await;
    assert_eq!(run.status, 202, "{}", run.body);
    let xss_run = run.json()["id"].as_i64().unwrap();
    let finished =
        wait_for("the attack-named site's run", Duration::from_secs(90), || run_status(&base, xss_run)).await;
    let jobs = finished["jobs"].as_array().unwrap();
    let statuses: Vec<(&str, &str, bool)> = jobs
        .iter()
        .map(|j| {
            (
                j["flow_name"].as_str().unwrap(),
                j["status"].as_str().unwrap(),
                j["has_screenshot"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [(XSS_FLOW, "passed", false), ("browser check", "failed", true)], "{finished}");
    let demo_site = get(&format!("{base}/api/sites"))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "demo")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let demo_run = wait_for("a finished demo run", Duration::from_secs(60), || async {
        let runs = get(&format!("{base}/api/runs?site={demo_site}")).await.json();
        runs["items"].as_array()?.iter().find(|r| r["status"] == "failed").and_then(|r| r["id"].as_i64())
    })
    .await;
    // The demo's flows each run on their own jittered slot, so a finished run may hold one
    // job only: wait for enough completed jobs to draw the chart.
    wait_for("five completed jobs", Duration::from_secs(60), || async {
        let summary = get(&format!("{base}/api/summary")).await.json();
        (summary["durations"].as_array()?.len() >= 5).then_some(())
    })
    .await;

    let server = Chromedriver::spawn(&chromedriver).await.expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&server, &chromium, profile.path()).await;

    visit(&client, &base, "/ui", "Overview").await;
    // innerText is as shown: card labels are upper-cased by the stylesheet.
    let home = text(&client).await.to_lowercase();
    for want in ["success rate", "p95 latency", "job durations over time", "recent runs", XSS_NAME, "demo"] {
        assert!(home.contains(want), "home lacks {want:?}:\n{home}");
    }
    let dots = client.find_all(Locator::Css("svg circle.dot")).await.unwrap();
    assert!(dots.len() >= 5, "{} dots on the durations chart", dots.len());
    let home_png = save_screenshot(&client, "dashboard-home.png").await;

    visit(&client, &base, "/ui/sites", "Sites").await;
    let sites = text(&client).await;
    assert!(sites.contains(XSS_NAME) && sites.contains("demo") && sites.contains("every 20 s"), "{sites}");

    visit(&client, &base, &format!("/ui/sites/{xss_id}"), &format!("Site {XSS_NAME}")).await;
    let h1 = client.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(h1, XSS_NAME);
    let site = text(&client).await;
    assert!(site.contains(XSS_FLOW) && site.contains("browser check") && site.contains("Run now"), "{site}");
    assert!(!client.find_all(Locator::Css("svg rect.bar")).await.unwrap().is_empty(), "no run bars");
    save_screenshot(&client, "dashboard-site.png").await;

    visit(&client, &base, &format!("/ui/sites/{demo_site}"), "Site demo").await;
    assert!(text(&client).await.contains("login with wrong password"));
    visit(&client, &base, &format!("/ui/sites/{xss_id}/edit"), &format!("Edit {XSS_NAME}")).await;
    let name_value = client.find(Locator::Css("input#name")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(name_value.as_deref(), Some(XSS_NAME));

    visit(&client, &base, "/ui/runs", "Runs").await;
    let rows = client.find_all(Locator::Css("table.data tbody tr")).await.unwrap();
    assert!(rows.len() >= 2, "{} run rows", rows.len());
    visit(&client, &base, "/ui/runs?outcome=failed", "Runs").await;
    let mut badges = Vec::new();
    for badge in client.find_all(Locator::Css("table.data tbody .badge")).await.unwrap() {
        badges.push(badge.text().await.unwrap());
    }
    assert!(!badges.is_empty() && badges.iter().all(|b| b == "failed"), "{badges:?}");

    visit(&client, &base, &format!("/ui/runs/{xss_run}"), &format!("Run {xss_run}")).await;
    let run_text = text(&client).await;
    for want in
        [XSS_NAME, XSS_FLOW, "browser check", "2 (expect_text)", "text \"Out of stock\" not found", "1 of 2"]
    {
        assert!(run_text.contains(want), "run page lacks {want:?}:\n{run_text}");
    }
    // The page's load event can come before a cached-or-not image has decoded: wait for the
    // image to be complete (loaded or broken), then check its size.
    let shot = wait_for("the run page's screenshot to finish loading", Duration::from_secs(10), || async {
        let state = client
            .execute(
                "const i = document.querySelector('img.shot'); \
                 return i ? [i.complete, i.naturalWidth] : [true, -1]",
                vec![],
            )
            .await
            .unwrap();
        (state[0] == true).then(|| state[1].clone())
    })
    .await;
    assert!(
        shot.as_u64().unwrap_or(0) >= 640,
        "the screenshot did not load (naturalWidth, -1: no img.shot): {shot}"
    );
    let run_png = save_screenshot(&client, "dashboard-run.png").await;

    visit(&client, &base, &format!("/ui/runs/{demo_run}"), &format!("Run {demo_run}")).await;
    let demo_text = text(&client).await;
    // Each demo flow runs on its own slot: a failed run holds one of the two failing flows.
    assert!(
        demo_text.contains("demo")
            && (demo_text.contains("server error page") || demo_text.contains("login with wrong password")),
        "{demo_text}"
    );

    visit(&client, &base, "/ui/drivers", "Drivers").await;
    let drivers = text(&client).await;
    assert!(
        drivers.contains("http") && drivers.contains("webdriver") && drivers.contains("healthy"),
        "{drivers}"
    );
    visit(&client, &base, "/ui/drivers/webdriver", "Driver webdriver").await;
    let wd = text(&client).await;
    assert!(
        wd.contains("ChromeDriver ready")
            && wd.contains("browser check")
            && wd.to_lowercase().contains("capacity"),
        "{wd}"
    );
    visit(&client, &base, "/ui/drivers/http", "Driver http").await;
    assert!(text(&client).await.contains(XSS_FLOW));

    visit(&client, &base, "/ui/add", "Add a site").await;
    // The add form in the browser: a bad submission lists every problem, keeps what was typed.
    client.find(Locator::Css("input#name")).await.unwrap().send_keys("<b>new</b>").await.unwrap();
    client.find(Locator::Css("input#base_url")).await.unwrap().send_keys("ftp://nope/").await.unwrap();
    client.find(Locator::Css("input#interval_secs")).await.unwrap().send_keys("soon").await.unwrap();
    // The answer has the add form's title again: the new document is what is awaited.
    let shown = page::click_to(&client, SUBMIT, "Add a site · runner").await;
    let problems = shown.text.unwrap_or_default();
    assert!(problems.contains("Nothing was saved: please fix these 2 problems."), "{problems}");
    assert!(
        problems.contains("`soon` is not a whole number of seconds")
            && problems.contains("must be an http or https URL"),
        "{problems}"
    );
    save_screenshot(&client, "dashboard-add-errors.png").await;
    // ...and a good one lands on the new site.
    let field = client.find(Locator::Css("input#base_url")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&demo).await.unwrap();
    let field = client.find(Locator::Css("input#interval_secs")).await.unwrap();
    field.clear().await.unwrap();
    let shown = page::click_to(&client, SUBMIT, "Site <b>new</b> · runner").await;
    assert!(shown.url.starts_with(&format!("{base}/ui/sites/")), "landed on {}", shown.url);

    visit(&client, &base, "/ui/unlock", "Unlock writes").await;
    visit(&client, &base, "/ui/nowhere", "404 Not Found").await;

    client.close().await.unwrap();
    drop(server);
    t.app.shutdown().await;
    assert!(std::fs::metadata(home_png).unwrap().len() > 10_000);
    assert!(std::fs::metadata(run_png).unwrap().len() > 10_000);
}

/// A client that keeps redirects to itself.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The session cookie and CSRF token a form page hands out.
pub(crate) async fn form_session(base: &str, path: &str) -> (String, String) {
    let page = send(no_redirects().get(format!("{base}{path}"))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.headers.get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/ui"),
        "{cookie}"
    );
    let sid = cookie.split(';').next().unwrap().to_owned();
    let token = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a csrf field")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (sid, token)
}

pub(crate) async fn post_form<K: AsRef<str>, V: AsRef<str>>(
    base: &str,
    path: &str,
    cookie: Option<&str>,
    fields: &[(K, V)],
) -> Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
        .finish();
    let mut req = no_redirects()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    send(req.body(body)).await
}

async fn site_names(base: &str) -> Vec<String> {
    get(&format!("{base}/api/sites"))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn forms_need_a_valid_csrf_token() {
    let t = start_app(|_| {}).await;
    let base = t.base.clone();
    let (sid, token) = form_session(&base, "/ui/add").await;
    let flows =
        "- name: contact\n  start_url: /contact\n  steps:\n    - kind: expect_text\n      text: Contact us\n";
    let fields = |csrf: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf),
            ("name", "Shop <one>"),
            ("base_url", "http://127.0.0.1:9/"),
            ("interval_secs", "60"),
            ("enabled", "on"),
            ("flows", flows),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    };

    // Refused, each with a clear 403 page, and nothing stored.
    let no_token: Vec<_> = fields("").into_iter().filter(|(k, _)| k != "csrf").collect();
    let answer = post_form(&base, "/ui/add", Some(&sid), &no_token).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("the form has no CSRF token"), "{}", answer.body);
    let answer = post_form(&base, "/ui/add", Some(&sid), &fields("00ff")).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("CSRF token is not valid for this session"), "{}", answer.body);
    let leaked = token.as_str();
    let answer = post_form(&base, "/ui/add", None, &fields(leaked)).await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.body.contains("this form came without the dashboard")
            && answer.body.contains("session cookie"),
        "{}",
        answer.body
    );
    let (other_sid, _) = form_session(&base, "/ui/add").await;
    assert_eq!(
        post_form(&base, "/ui/add", Some(&other_sid), &fields(leaked)).await.status,
        403,
        "a token of another session"
    );
    let cross = no_redirects()
        .post(format!("{base}/ui/add"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &sid)
        .header("origin", "http://evil.example")
        .body(form_urlencoded::Serializer::new(String::new()).extend_pairs(fields(leaked)).finish());
    assert_eq!(send(cross).await.status, 403, "cross-origin post");
    assert_eq!(site_names(&base).await, Vec::<String>::new());

    // Invalid input: 422, every problem listed, nothing stored.
    let bad = [
        ("csrf", leaked),
        ("name", ""),
        ("base_url", "nope"),
        ("interval_secs", "2"),
        ("flows", "- name: a\n  start_url: /\n  steps: [{kind: click, selector: '##'}]\n"),
    ];
    let answer = post_form(&base, "/ui/add", Some(&sid), &bad).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    for want in [
        "must not be empty",
        "`nope` is not an absolute URL",
        "must be between 5 and",
        "flows[0].steps[0].selector",
        "`##` is not a valid CSS selector",
    ] {
        assert!(answer.body.contains(want), "422 page lacks {want:?}");
    }
    assert_eq!(site_names(&base).await, Vec::<String>::new());

    // Accepted: 303 to the new site, stored with its flow.
    let answer = post_form(&base, "/ui/add", Some(&sid), &fields(leaked)).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let location = answer.headers.get("location").unwrap().to_str().unwrap().to_owned();
    assert!(location.starts_with("/ui/sites/"), "{location}");
    assert_eq!(site_names(&base).await, ["Shop <one>"]);
    let id = location.trim_start_matches("/ui/sites/");
    let site = get(&format!("{base}/api/sites/{id}")).await.json();
    assert_eq!((site["interval_secs"].as_u64(), site["enabled"].as_bool()), (Some(60), Some(true)));
    assert_eq!(site["flows"][0]["name"], "contact");

    // The page escapes the name, and sends its security headers.
    let page = get(&format!("{base}{location}")).await;
    // askama writes `<` and `>` as numeric references.
    assert!(page.body.contains("<h1 class=\"site-name\">Shop &#60;one&#62;</h1>"), "{}", page.body);
    assert!(!page.body.contains("Shop <one>"), "unescaped name:\n{}", page.body);
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    // Run now and delete go through the same guard.
    assert_eq!(
        post_form::<&str, &str>(&base, &format!("/ui/sites/{id}/run"), Some(&sid), &[]).await.status,
        403
    );
    // Run now is refused while the site's first scheduled run is unfinished: let it end.
    crate::support::wait_for("the site's first run to end", std::time::Duration::from_secs(30), || async {
        let runs = get(&format!("{base}/api/runs")).await.json();
        let items = runs["items"].as_array()?.clone();
        (!items.is_empty() && items.iter().all(|r| r["finished_at"].is_i64())).then_some(())
    })
    .await;
    let answer = post_form(&base, &format!("/ui/sites/{id}/run"), Some(&sid), &[("csrf", leaked)]).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert!(answer.headers.get("location").unwrap().to_str().unwrap().starts_with("/ui/runs/"));
    let answer = post_form(&base, &format!("/ui/sites/{id}/delete"), Some(&sid), &[("csrf", leaked)]).await;
    assert_eq!(
        (answer.status, answer.headers.get("location").unwrap().to_str().unwrap()),
        (303, "/ui/sites")
    );
    assert_eq!(site_names(&base).await, Vec::<String>::new());
    t.app.shutdown().await;
}

#[tokio::test]
async fn with_a_write_token_forms_need_an_unlocked_session() {
    let t = start_app(|c| c.write_token = Some("s3cret-token-0123".into())).await;
    let base = t.base.clone();
    // Locked, the add page has no form: the unlock page hands out the session.
    let (sid, token) = form_session(&base, "/ui/unlock").await;
    let site = [("csrf", token.as_str()), ("name", "locked"), ("base_url", "http://127.0.0.1:9/")];
    let answer = post_form(&base, "/ui/add", Some(&sid), &site).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("unlock the dashboard at /ui/unlock"), "{}", answer.body);

    let answer =
        post_form(&base, "/ui/unlock", Some(&sid), &[("csrf", token.as_str()), ("token", "guess")]).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("write token (--write-token)"), "{}", answer.body);
    let answer = post_form(
        &base,
        "/ui/unlock",
        Some(&sid),
        &[("csrf", token.as_str()), ("token", "s3cret-token-0123")],
    )
    .await;
    assert_eq!(answer.status, 303);
    let unlock =
        answer.headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let both = format!("{sid}; {unlock}");
    assert_eq!(post_form(&base, "/ui/add", Some(&both), &site).await.status, 303);
    assert_eq!(site_names(&base).await, ["locked"]);
    // The unlock cookie is bound to its session.
    let (other, other_token) = form_session(&base, "/ui/unlock").await;
    let stolen = format!("{other}; {unlock}");
    let again = [("csrf", other_token.as_str()), ("name", "again"), ("base_url", "http://127.0.0.1:9/")];
    assert_eq!(post_form(&base, "/ui/add", Some(&stolen), &again).await.status, 403);
    t.app.shutdown().await;
}
