#![doc = include_str!("../README.md")]
//!
//! # What is read
//!
//! [`current_trace`] asks the current `tracing` span for its OpenTelemetry context
//! (`tracing_opentelemetry::OpenTelemetrySpanExt::context`), falling back to the current
//! OpenTelemetry context for code that uses the OpenTelemetry API directly. It gives a
//! [`TraceExemplar`] only when that span context is valid and sampled, with both ids as
//! OpenTelemetry prints them: 32 and 16 lowercase hex digits, labels `trace_id` and `span_id`.
//!
//! | to | write |
//! |---|---|
//! | observe a histogram | `h.observe_traced(v)` ([`HistogramTraced`]) |
//! | count | `c.inc_traced()`, `c.inc_by_traced(n)` ([`CounterTraced`]) |
//! | stop a timer | `timer.stop_traced()` ([`TimerTraced`]) |
//! | anything else with exemplars | `x.*_with_exemplar(.., &trace.labels())` with [`current_trace`] |
//! | promkit-http's middleware | `.exemplar_from(`[`request_exemplar`]`)` on its builders |
//!
//! Versions: `tracing-opentelemetry` 0.34 with `opentelemetry` 0.33. The application's own
//! `tracing-opentelemetry` must be the same release, or its layer is invisible to this crate
//! and every lookup gives `None`.
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod exemplar;
mod ext;
mod hook;

pub use exemplar::{SPAN_ID_LABEL, TRACE_ID_LABEL, TraceExemplar, current_trace};
pub use ext::{CounterTraced, HistogramTraced, TimerTraced};
pub use hook::request_exemplar;
