//! Records every refused mutation in the audit read model ([`projections::refusals`]): a schema
//! extension that watches the top-level mutation fields, so every mutation — those added later
//! included — is covered without each resolver remembering to.
//!
//! Refused queries are recorded too, but only those refused as `FORBIDDEN` or `VALIDATION`
//! (someone reaching for what their roles do not allow, or probing with malformed input) and at
//! most one per request: a query may hold hundreds of aliased fields, and a hostile client must
//! not turn one request into hundreds of rows. Queries answered `NOT_FOUND` are not recorded
//! (asking for an id that is not there is what every reader does).
//!
//! A refusal is an error with code `FORBIDDEN` (outcome `forbidden`), `VALIDATION` (`invalid`),
//! `NOT_FOUND` (`not_found`) or `CONFLICT` (`conflict` when concurrent writers kept winning,
//! `rejected` when the domain refused the command in the aggregate's state). `INTERNAL`,
//! `UNAVAILABLE` and `TIMEOUT` are failures of ours, not refusals; `UNAUTHENTICATED` has no
//! caller and no tenant to file it under, and errors of the GraphQL document itself (parse,
//! validation, limits) never reach a resolver — none of these is recorded. The CLI's commands
//! are not recorded either (the CLI runs with the operator's own authority).
//!
//! Recording is best effort: bounded by [`RECORD_TIMEOUT`], and a failure is logged as a
//! warning and never changes the caller's answer.

use super::Services;
use crate::auth::Caller;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, Value, Variables};
use projections::refusals::{self, Refusal, RefusalOutcome};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest a refusal's write may hold up the answer.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(2);

/// Put as the `source` of a `CONFLICT` error that concurrent writers caused (not the domain), so
/// that the refusal is recorded as `conflict` rather than `rejected`.
#[derive(Debug)]
pub struct ConcurrencyConflict(pub String);

impl std::fmt::Display for ConcurrencyConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The extension's factory (one instance per request).
pub struct RecordRefusals;

impl ExtensionFactory for RecordRefusals {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RefusalRecorder::default())
    }
}

#[derive(Default)]
struct RefusalRecorder {
    /// The request's variables, to read arguments given as `$variables`.
    variables: Mutex<Variables>,
    /// Set once a refused query field of this request was recorded (one row per request).
    query_recorded: std::sync::atomic::AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RefusalRecorder {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Ok(mut stored) = self.variables.lock() {
            *stored = variables.clone();
        }
        next.run(ctx, query, variables).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let top_level = info.path_node.parent.is_none();
        let registry = &ctx.schema_env.registry;
        let mutation = top_level && registry.mutation_type.as_deref() == Some(info.parent_type);
        let query = top_level && registry.query_type == info.parent_type;
        if !mutation && !query {
            return next.run(ctx, info).await;
        }
        let action = info.name.to_owned();
        let arguments = self.arguments(&info);
        let result = next.run(ctx, info).await;
        if let Err(error) = &result {
            let outcome = outcome(error).filter(|outcome| {
                mutation
                    || (matches!(outcome, RefusalOutcome::Forbidden | RefusalOutcome::Invalid)
                        && !self
                            .query_recorded
                            .swap(true, std::sync::atomic::Ordering::SeqCst))
            });
            if let (Some(outcome), Some(caller), Some(services)) = (
                outcome,
                ctx.data_opt::<Caller>(),
                ctx.data_opt::<Services>(),
            ) {
                let resource_type = if mutation {
                    resource_of(&action)
                } else {
                    query_resource_of(&action)
                };
                let refusal = Refusal {
                    tenant: caller.tenant.as_str().to_owned(),
                    actor: caller.subject.clone(),
                    roles: caller.role_names(),
                    resource_type: resource_type.to_owned(),
                    target_id: target_of(&arguments),
                    command_id: argument_text(&arguments, "commandId").unwrap_or_default(),
                    action,
                    outcome,
                    reason: error.message.clone(),
                };
                match tokio::time::timeout(
                    RECORD_TIMEOUT,
                    refusals::record(&services.pool, &refusal),
                )
                .await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, action = %refusal.action, "refusal not recorded")
                    }
                    Err(_) => {
                        tracing::warn!(action = %refusal.action, "refusal not recorded in time")
                    }
                }
            }
        }
        result
    }
}

impl RefusalRecorder {
    /// The field's arguments with variables substituted.
    fn arguments(&self, info: &ResolveInfo<'_>) -> Vec<(String, Value)> {
        let variables = self.variables.lock().map(|v| v.clone()).unwrap_or_default();
        info.field
            .arguments
            .iter()
            .map(|(name, value)| {
                let value = value
                    .node
                    .clone()
                    .into_const_with(|name| {
                        Ok::<_, std::convert::Infallible>(
                            variables.get(&name).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .unwrap_or(Value::Null);
                (name.node.to_string(), value)
            })
            .collect()
    }
}

/// The refusal an error stands for, if it is one.
fn outcome(error: &ServerError) -> Option<RefusalOutcome> {
    let code = error.extensions.as_ref()?.get("code")?;
    let Value::String(code) = code else {
        return None;
    };
    match code.as_str() {
        "FORBIDDEN" => Some(RefusalOutcome::Forbidden),
        "VALIDATION" => Some(RefusalOutcome::Invalid),
        "NOT_FOUND" => Some(RefusalOutcome::NotFound),
        "CONFLICT" if error.source::<ConcurrencyConflict>().is_some() => {
            Some(RefusalOutcome::Conflict)
        }
        "CONFLICT" => Some(RefusalOutcome::Rejected),
        _ => None,
    }
}

/// The id a mutation addresses: its `id` argument, else the first `…Id` argument other than
/// `commandId`; empty when it has none (a registration, a policy change).
fn target_of(arguments: &[(String, Value)]) -> String {
    argument_text(arguments, "id")
        .or_else(|| {
            arguments
                .iter()
                .filter(|(name, _)| name.ends_with("Id") && name != "commandId")
                .find_map(|(name, _)| argument_text(arguments, name))
        })
        .unwrap_or_default()
}

fn argument_text(arguments: &[(String, Value)], name: &str) -> Option<String> {
    arguments
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, value)| match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
}

/// The aggregate type a mutation acts on (empty for a mutation not listed here).
pub fn resource_of(action: &str) -> &'static str {
    match action {
        "registerDataSource"
        | "updateDataSourceConfig"
        | "configureDataSource"
        | "catalogDataSource"
        | "startMonitoringDataSource"
        | "archiveDataSource"
        | "checkDataSourceHealth"
        | "validateConnection"
        | "rotateCredentials"
        | "startClassification" => "data_source",
        "startScan" => "scan",
        "review"
        | "confirmClassification"
        | "rejectClassification"
        | "classifyManually"
        | "updateAssetMetadata" => "asset",
        "createScanRuleSet" | "updateScanRuleSet" | "attachScanRuleSet" => "scan_rule_set",
        "acceptViolation" => "violation",
        "enableFramework"
        | "disableFramework"
        | "tuneComplianceRule"
        | "defineComplianceRule"
        | "retireComplianceRule" => "compliance_policy",
        "defineRole" | "changeRole" | "retireRole" | "grantRole" | "revokeRole" => "access_policy",
        "defineGlossaryTerm"
        | "changeGlossaryTerm"
        | "approveGlossaryTerm"
        | "deprecateGlossaryTerm"
        | "linkGlossaryTerm"
        | "unlinkGlossaryTerm" => "glossary",
        _ => "",
    }
}

/// What a refused query reached for: the audit trail and raw history (`audit`), roles and
/// grants (`access_policy`), a rule-set preview (`scan_rule_set`), else the catalog.
pub fn query_resource_of(field: &str) -> &'static str {
    match field {
        "auditTrail" | "history" => "audit",
        "roles" => "access_policy",
        "previewScanRuleSet" | "scanRuleSets" => "scan_rule_set",
        _ => "catalog",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mutation of the schema names its resource, so a new one cannot slip by unnoticed.
    #[test]
    fn every_mutation_names_its_resource() {
        let schema = async_graphql::Schema::build(
            super::super::Query::default(),
            super::super::Mutation::default(),
            super::super::subscription::SubscriptionRoot,
        )
        .finish();
        let response = futures::executor::block_on(
            schema.execute("{ __schema { mutationType { fields { name } } } }"),
        );
        let data = response.data.into_json().unwrap();
        let names: Vec<&str> = data["__schema"]["mutationType"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        assert!(names.contains(&"archiveDataSource"), "{names:?}");
        let unlisted: Vec<&&str> = names.iter().filter(|n| resource_of(n).is_empty()).collect();
        assert!(
            unlisted.is_empty(),
            "mutations without a resource: {unlisted:?}"
        );
    }
}
