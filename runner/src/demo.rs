//! The built-in demo site: a few server-rendered form pages, served by the runner itself on a
//! loopback port of its own, and the site with flows that check them, seeded into an empty
//! store. A newcomer sees jobs pass and fail, the dashboard and `/metrics` move within a
//! minute, with no internet.
//!
//! | page | what it does | demo flow |
//! |---|---|---|
//! | `/contact` | a form (hidden token, select, textarea, checkbox) that redirects to a thank-you page | `contact form` passes |
//! | `/login` | a login form; only the password `correct horse` gets in | `login with wrong password` fails at its `expect_text` |
//! | `/slow?ms=N` | answers after N ms (at most 120000) | `slow page` passes, slowly |
//! | `/broken` | answers 500 | `server error page` fails on its start page |
//!
//! Every page also waits a short, varying time, so job durations spread out like real
//! ones.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Query};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::domain::{FlowSpec, SiteSpec, Step};
use crate::web::escape::html;

/// The name of the seeded demo site.
pub const SITE_NAME: &str = "demo";

/// How often the demo site runs, in seconds.
pub const INTERVAL_SECS: u64 = 20;

/// The password that gets past the demo login.
pub const PASSWORD: &str = "correct horse";

/// A tiny xorshift generator for page delays: no dependency, and varied enough.
static RNG: Mutex<u64> = Mutex::new(0x9E37_79B9_7F4A_7C15);

/// 30 to 90 ms, roughly bell-shaped (the sum of three uniform draws).
fn jitter() -> Duration {
    let mut state = RNG.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut total = 0;
    for _ in 0..3 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        total += 10 + *state % 21;
    }
    Duration::from_millis(total)
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><nav><a href=\"/\">Demo shop</a></nav><main>{body}</main></body></html>"
    ))
}

async fn index() -> Html<String> {
    tokio::time::sleep(jitter()).await;
    page(
        "Demo shop",
        "<h1>Demo shop</h1><ul><li><a href=\"/contact\">Contact</a></li><li><a href=\"/login\">Log in</a></li>\
         <li><a href=\"/slow\">Slow page</a></li><li><a href=\"/broken\">Order</a></li></ul>",
    )
}

async fn contact_form() -> Html<String> {
    tokio::time::sleep(jitter()).await;
    page(
        "Contact us",
        "<h1>Contact us</h1>\
         <form method=\"post\" action=\"/contact\">\
           <input type=\"hidden\" name=\"token\" value=\"demo-token\">\
           <label>Name <input name=\"name\" required></label>\
           <label>Email <input type=\"email\" name=\"email\" required></label>\
           <label>Topic <select name=\"topic\"><option value=\"sales\">Sales</option>\
             <option value=\"support\">Support</option></select></label>\
           <label>Message <textarea name=\"message\"></textarea></label>\
           <label><input type=\"checkbox\" name=\"newsletter\" value=\"yes\"> Newsletter</label>\
           <button type=\"submit\">Send</button>\
         </form>",
    )
}

#[derive(Debug, Deserialize)]
struct Contact {
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

async fn contact_send(Form(form): Form<Contact>) -> Response {
    tokio::time::sleep(jitter()).await;
    if form.token != "demo-token" || form.name.trim().is_empty() || !form.email.contains('@') {
        let body = page(
            "Contact us",
            "<h1>Contact us</h1><p class=\"error\">Please fill in your name and email.</p>",
        );
        return (StatusCode::UNPROCESSABLE_ENTITY, body).into_response();
    }
    let to = format!(
        "/contact/thanks?name={}",
        form_urlencoded::byte_serialize(form.name.as_bytes()).collect::<String>()
    );
    Redirect::to(&to).into_response()
}

#[derive(Debug, Deserialize)]
struct Thanks {
    #[serde(default)]
    name: String,
}

async fn contact_thanks(Query(q): Query<Thanks>) -> Html<String> {
    tokio::time::sleep(jitter()).await;
    page("Thank you", &format!("<h1>Thank you, {}!</h1><p>Your message was sent.</p>", html(&q.name)))
}

async fn login_form() -> Html<String> {
    tokio::time::sleep(jitter()).await;
    page(
        "Log in",
        "<h1>Log in</h1><form method=\"post\" action=\"/login\">\
           <label>User <input name=\"user\"></label>\
           <label>Password <input type=\"password\" name=\"password\"></label>\
           <button id=\"login\" type=\"submit\">Log in</button></form>",
    )
}

#[derive(Debug, Deserialize)]
struct Login {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

async fn login_send(Form(form): Form<Login>) -> Response {
    tokio::time::sleep(jitter()).await;
    if form.password == PASSWORD {
        let cookie = format!(
            "session={}; Path=/; HttpOnly",
            form_urlencoded::byte_serialize(form.user.as_bytes()).collect::<String>()
        );
        ([(header::SET_COOKIE, cookie)], Redirect::to("/account")).into_response()
    } else {
        let body = page("Log in", "<h1>Log in</h1><p class=\"error\">Invalid username or password.</p>");
        (StatusCode::OK, body).into_response()
    }
}

async fn account(headers: axum::http::HeaderMap) -> Response {
    let user = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("session="))
        .map(|u| {
            form_urlencoded::parse(format!("u={u}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .next()
                .unwrap_or_default()
        });
    match user {
        Some(user) => page("Account", &format!("<h1>Welcome back, {}</h1>", html(&user))).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct Slow {
    ms: Option<u64>,
}

async fn slow(Query(q): Query<Slow>) -> Html<String> {
    let wait = Duration::from_millis(q.ms.unwrap_or(800).min(120_000));
    tokio::time::sleep(wait).await;
    page("Slow page", &format!("<h1>The slow page finally loaded</h1><p>after {} ms</p>", wait.as_millis()))
}

async fn broken() -> Response {
    tokio::time::sleep(jitter()).await;
    (StatusCode::INTERNAL_SERVER_ERROR, page("Server error", "<h1>Something went wrong</h1>")).into_response()
}

/// The demo site's pages.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/contact", get(contact_form).post(contact_send))
        .route("/contact/thanks", get(contact_thanks))
        .route("/login", get(login_form).post(login_send))
        .route("/account", get(account))
        .route("/slow", get(slow))
        .route("/broken", get(broken))
}

/// Serves the demo pages on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, mut shutdown: watch::Receiver<bool>) -> std::io::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

/// Binds the demo site's listener on a free loopback port.
///
/// # Errors
///
/// The bind error.
pub async fn bind() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// The demo site and its flows, for a site served at `base_url`.
pub fn site(base_url: &str) -> SiteSpec {
    let fill = |selector: &str, value: &str| Step::Fill { selector: selector.into(), value: value.into() };
    SiteSpec {
        name: SITE_NAME.to_owned(),
        base_url: base_url.to_owned(),
        interval_secs: Some(INTERVAL_SECS),
        enabled: true,
        flows: Some(vec![
            FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "contact form".into(),
                driver: "http".into(),
                start_url: "/contact".into(),
                steps: vec![
                    fill("input[name=name]", "Ada Lovelace"),
                    fill("input[name=email]", "ada@example.com"),
                    Step::Select { selector: "select[name=topic]".into(), value: "Support".into() },
                    fill("textarea[name=message]", "Does the form still work?"),
                    fill("input[name=newsletter]", "true"),
                    Step::Submit { selector: None },
                    Step::ExpectUrl { url: "/contact/thanks".into() },
                    Step::ExpectText { text: "Thank you, Ada Lovelace!".into() },
                ],
            },
            FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "login with wrong password".into(),
                driver: "http".into(),
                start_url: "/login".into(),
                steps: vec![
                    fill("input[name=user]", "ada"),
                    fill("input[name=password]", "wrong password"),
                    Step::Click { selector: "#login".into() },
                    Step::ExpectText { text: "Welcome back".into() },
                ],
            },
            FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "slow page".into(),
                driver: "http".into(),
                start_url: "/slow?ms=800".into(),
                steps: vec![Step::ExpectText { text: "finally loaded".into() }],
            },
            FlowSpec {
                retries: None,
                interval_secs: None,
                timeout_secs: None,
                name: "server error page".into(),
                driver: "http".into(),
                start_url: "/broken".into(),
                steps: vec![Step::ExpectText { text: "Order placed".into() }],
            },
        ]),
    }
}
