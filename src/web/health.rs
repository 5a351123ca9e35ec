//! `/healthz`: whether the database answers, and whether the index is ready.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use super::State;

#[handler]
pub async fn healthz(Data(state): Data<&State>) -> Response {
    let db = state
        .db
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await;
    let index = if state.search.is_ready() {
        "ready"
    } else {
        "building"
    };
    match db {
        Ok(_) => Json(json!({"status": "ok", "database": "ok", "index": index})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            let mut r = Json(json!({"status": "error", "database": "error", "index": index}))
                .into_response();
            r.set_status(StatusCode::SERVICE_UNAVAILABLE);
            r
        }
    }
}
