//! `/healthz`: whether the database answers (503 when it does not) and whether
//! the index is ready. Clients allowed to read `/metrics` (see
//! [`super::metrics::check`]) also get the details: version, uptime, index
//! documents, task queue, worker, database size and free disk space.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::json;

use super::State;
use crate::metrics::gauges;

/// After this long without going round its loop the worker is `stalled`: it
/// goes round at least every few seconds, or after its current task.
const WORKER_STALLED_SECS: u64 = 300;

#[handler]
pub async fn healthz(req: &Request, Data(state): Data<&State>) -> Response {
    let details = super::metrics::check(&state.config.metrics, req).is_ok();
    let index = if state.search.is_ready() {
        "ready"
    } else {
        "building"
    };
    let (up, mut body) = if details {
        let g = gauges::read(state, false).await;
        let worker = match state.metrics.worker_idle() {
            None => json!({"state": "elsewhere"}),
            Some(idle) => json!({
                "state": if idle.as_secs() >= WORKER_STALLED_SECS { "stalled" } else { "running" },
                "idle_seconds": idle.as_secs(),
            }),
        };
        let body = json!({
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": state.metrics.uptime().as_secs(),
            "index_docs": g.index_docs,
            "tasks_queued": g.tasks_in("queued"),
            "tasks_running": g.tasks_in("running"),
            "tasks_failed": g.tasks_in("failed"),
            "worker": worker,
            "database_bytes": g.database_bytes + g.wal_bytes,
            "disk_free_bytes": g.disk_free_bytes,
        });
        (g.tasks.is_some(), body)
    } else {
        let answered = state
            .db
            .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await;
        if let Err(e) = &answered {
            tracing::error!(error = %e, "health check: database does not answer");
        }
        (answered.is_ok(), json!({}))
    };
    let (status, database) = if up { ("ok", "ok") } else { ("error", "error") };
    if let Some(map) = body.as_object_mut() {
        map.insert("status".into(), status.into());
        map.insert("database".into(), database.into());
        map.insert("index".into(), index.into());
    }
    let mut resp = Json(body).into_response();
    if !up {
        resp.set_status(StatusCode::SERVICE_UNAVAILABLE);
    }
    resp
}
