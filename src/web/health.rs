//! `/healthz`: whether the database answers (and, later, the index's state).

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
    match db {
        Ok(_) => Json(json!({"status": "ok", "database": "ok", "index": "ready"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            let mut r = Json(json!({"status": "error", "database": "error", "index": "ready"}))
                .into_response();
            r.set_status(StatusCode::SERVICE_UNAVAILABLE);
            r
        }
    }
}
