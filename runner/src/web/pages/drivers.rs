//! The drivers pages: every engine with its capacity, sessions in use and health; one engine
//! with its latest jobs (the views of `/api/drivers` and `/api/drivers/{name}`).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;

use super::views::{DriverView, JobView};
use super::{Layout, PageError, Session, render};
use crate::web::queries;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "drivers.html")]
struct DriversPage {
    layout: Layout,
    drivers: Vec<DriverView>,
}

/// `GET /ui/drivers`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, PageError> {
    let drivers = queries::drivers(&state).await?.iter().map(DriverView::new).collect();
    Ok(render(&DriversPage { layout: Layout::new("Drivers", "drivers", "/api/drivers", &session), drivers }))
}

#[derive(Template)]
#[template(path = "driver.html")]
struct DriverPage {
    layout: Layout,
    driver: DriverView,
    jobs: Vec<JobView>,
}

/// `GET /ui/drivers/{name}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let detail = queries::driver(&state, &name).await?;
    let api =
        format!("/api/drivers/{}", form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>());
    let page = DriverPage {
        layout: Layout::new(format!("Driver {name}"), "drivers", api, &session),
        driver: DriverView::new(&detail.driver),
        jobs: detail.recent_jobs.iter().map(JobView::new).collect(),
    };
    Ok(render(&page))
}
