//! The one mapping from failures to GraphQL errors.

use crate::auth::{AuthError, Caller};
use async_graphql::{Context, Error, ErrorExtensions};
use commands::CommandError;
use domain::access::Permission;
use domain::datasource::ValidationError;

/// Put into the request data when the bearer token was missing or invalid, so resolvers that
/// need a caller can say why there is none.
pub struct AuthFailure(pub AuthError);

/// An error with `extensions.code`.
pub(crate) fn api_error(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, ext| ext.set("code", code))
}

/// The authenticated caller, if they hold `permission`.
pub(crate) fn authorize<'a>(
    ctx: &'a Context<'_>,
    permission: Permission,
) -> async_graphql::Result<&'a Caller> {
    let Some(caller) = ctx.data_opt::<Caller>() else {
        let message = ctx
            .data_opt::<AuthFailure>()
            .map(|failure| failure.0.to_string())
            .unwrap_or_else(|| AuthError::Missing.to_string());
        return Err(api_error("UNAUTHENTICATED", message));
    };
    if !caller.allows(permission) {
        return Err(api_error(
            "FORBIDDEN",
            format!("your roles do not allow you to {}", permission.as_str()),
        ));
    }
    Ok(caller)
}

/// A `VALIDATION` error naming every problem of one input: the message is `field: message; …`
/// and `extensions.problems` lists each as `{field, message}` (a condition's problems carry their
/// character position in the message).
pub(crate) fn validation_problems(err: &ValidationError) -> Error {
    let problems: Vec<serde_json::Value> = err
        .errors
        .iter()
        .map(|e| serde_json::json!({ "field": e.field, "message": e.message }))
        .collect();
    let problems = async_graphql::Value::from_json(serde_json::Value::Array(problems))
        .unwrap_or(async_graphql::Value::Null);
    Error::new(err.to_string()).extend_with(move |_, ext| {
        ext.set("code", "VALIDATION");
        ext.set("problems", problems.clone());
    })
}

/// Maps a command failure; internal failures are logged and reported without detail.
pub(crate) fn command_error(err: CommandError) -> Error {
    match (err.code(), &err) {
        ("INTERNAL", _) => internal(&err),
        // Marked so that the audit records a lost race as `conflict`, not as the domain's
        // `rejected` (both are `CONFLICT` to the client).
        (code, CommandError::Conflict { .. }) => {
            Error::new_with_source(super::refusals::ConcurrencyConflict(err.to_string()))
                .extend_with(|_, ext| ext.set("code", code))
        }
        (code, _) => api_error(code, err.to_string()),
    }
}

/// Logs an internal failure with its cause chain and returns an opaque error.
pub(crate) fn internal(err: &dyn std::error::Error) -> Error {
    let reference = uuid::Uuid::now_v7();
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(%reference, error.cause_chain = %chain, "internal error");
    api_error(
        "INTERNAL",
        format!("internal error (reference {reference}); see the server log"),
    )
}
