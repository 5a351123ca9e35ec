//! API tokens as the JSON API's bearer security scheme: the extractors an
//! operation takes, and the lookup of the token's user.

use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use super::{User, store};
use crate::error::AppError;
use crate::web::State;
use crate::web::api::ApiError;

/// An API token, sent as `Authorization: Bearer <token>`. Employers create
/// tokens in their dashboard; operators with `jobboard token create`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", rename = "ApiToken")]
pub struct ApiToken(Bearer);

/// An API token where one is optional: without it, the public view.
#[derive(SecurityScheme)]
pub enum OptionalToken {
    Token(ApiToken),
    #[oai(fallback)]
    Anonymous,
}

impl ApiToken {
    /// The token's user (401 when the token is unknown, revoked or its user
    /// disabled); notes when the token was used.
    pub async fn user(&self, state: &State) -> Result<User, ApiError> {
        let token = self.0.token.clone();
        let found = state
            .db
            .read(move |c| store::api_token_user(c, &token))
            .await?;
        let Some((user, token_id)) = found else {
            return Err(AppError::Unauthorized.into());
        };
        let now = state.now();
        if let Err(e) = state
            .db
            .write_quiet(move |tx| store::touch_api_token(tx, token_id, now))
            .await
        {
            // The request goes on: the note is for the dashboard only.
            tracing::warn!(error = %e, token_id, "could not note an API token's use");
        }
        Ok(user)
    }
}

impl OptionalToken {
    /// The token's user when a token was sent (an invalid one is a 401), else `None`.
    pub async fn user(&self, state: &State) -> Result<Option<User>, ApiError> {
        match self {
            OptionalToken::Token(token) => token.user(state).await.map(Some),
            OptionalToken::Anonymous => Ok(None),
        }
    }
}
