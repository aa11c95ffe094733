//! The health part of the API: `dataSourceHealth` reads the latest recorded health of a source
//! and its history (the `health` read model); `checkDataSourceHealth` probes the source now,
//! records the assessment when it changed and returns it.

use super::errors::{command_error, internal};
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use commands::health::HealthReport;
use domain::access::Permission;
use domain::datasource::HealthAssessment;
use projections::data_sources;
use projections::health::{self, HealthRow};
use serde_json::Value;

/// One piece of advice from a health check.
#[derive(SimpleObject, Clone)]
pub struct HealthRecommendation {
    /// connection_failing, high_latency, tls_disabled, pool_saturated, high_error_rate or
    /// rising_error_rate.
    pub code: String,
    /// info, warning or critical.
    pub severity: String,
    /// What was measured and what to do about it.
    pub message: String,
}

/// Why the latest probe failed.
#[derive(SimpleObject, Clone)]
pub struct HealthFailure {
    /// unreachable, auth, tls, timeout or config.
    pub category: String,
    /// The connector's diagnostic, without secrets.
    pub message: String,
}

/// A health assessment over a source's recent probes.
#[derive(SimpleObject, Clone)]
#[graphql(name = "HealthAssessment")]
pub struct HealthAssessmentGql {
    /// healthy, degraded or unhealthy.
    pub status: String,
    /// Probes the figures are computed over (the recent window).
    pub samples: i32,
    /// Of those, the probes that failed.
    pub failures: i32,
    /// Share of the probes that failed, 0 to 1.
    pub error_rate: f64,
    /// Share of the probes that answered, 0 to 1.
    pub uptime: f64,
    /// Median round trip of a trivial query, in milliseconds; null when no probe answered.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile round trip, in milliseconds; null when no probe answered.
    pub latency_p95_ms: Option<f64>,
    /// Client connections open on the server, where the engine tells.
    pub active_connections: Option<i64>,
    /// The server's connection limit, where the engine tells.
    pub max_connections: Option<i64>,
    /// Database size (PostgreSQL, MySQL) or memory in use (Redis), in bytes.
    pub storage_bytes: Option<i64>,
    /// Seconds since the server started, where the engine tells.
    pub server_uptime_secs: Option<i64>,
    /// The server's version string.
    pub server_version: Option<String>,
    /// Why the latest probe failed, when it did.
    pub last_error: Option<HealthFailure>,
    /// Advice, most severe first.
    pub recommendations: Vec<HealthRecommendation>,
    /// When it was assessed (for recorded assessments: when the health last changed).
    pub assessed_at: DateTime<Utc>,
    /// The source's version after this assessment.
    pub version: i64,
}

fn rate(part: i32, whole: i32) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

fn millis(us: Option<i64>) -> Option<f64> {
    us.map(|us| us as f64 / 1000.0)
}

fn big(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

impl HealthAssessmentGql {
    fn from_domain(a: &HealthAssessment, assessed_at: DateTime<Utc>, version: u64) -> Self {
        let samples = i32::try_from(a.samples).unwrap_or(i32::MAX);
        let failures = i32::try_from(a.failures).unwrap_or(i32::MAX);
        Self {
            status: a.status.as_str().to_owned(),
            samples,
            failures,
            error_rate: rate(failures, samples),
            uptime: if samples > 0 {
                1.0 - rate(failures, samples)
            } else {
                0.0
            },
            latency_p50_ms: millis(big(a.latency_p50_us)),
            latency_p95_ms: millis(big(a.latency_p95_us)),
            active_connections: big(a.active_connections),
            max_connections: big(a.max_connections),
            storage_bytes: big(a.storage_bytes),
            server_uptime_secs: big(a.server_uptime_secs),
            server_version: a.server_version.clone(),
            last_error: a.last_error.as_ref().map(|e| HealthFailure {
                category: e.category.as_str().to_owned(),
                message: e.message.clone(),
            }),
            recommendations: a
                .recommendations
                .iter()
                .map(|r| HealthRecommendation {
                    code: r.code.as_str().to_owned(),
                    severity: r.severity.as_str().to_owned(),
                    message: r.message.clone(),
                })
                .collect(),
            assessed_at,
            version: i64::try_from(version).unwrap_or(i64::MAX),
        }
    }

    fn from_row(row: HealthRow) -> Self {
        let text = |value: &Value, key: &str| value[key].as_str().unwrap_or_default().to_owned();
        Self {
            error_rate: rate(row.failures, row.samples),
            uptime: if row.samples > 0 {
                1.0 - rate(row.failures, row.samples)
            } else {
                0.0
            },
            status: row.status,
            samples: row.samples,
            failures: row.failures,
            latency_p50_ms: millis(row.latency_p50_us),
            latency_p95_ms: millis(row.latency_p95_us),
            active_connections: row.active_connections,
            max_connections: row.max_connections,
            storage_bytes: row.storage_bytes,
            server_uptime_secs: row.server_uptime_secs,
            server_version: row.server_version,
            last_error: row.last_error.as_ref().map(|e| HealthFailure {
                category: text(e, "category"),
                message: text(e, "message"),
            }),
            recommendations: row
                .recommendations
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|r| HealthRecommendation {
                            code: text(r, "code"),
                            severity: text(r, "severity"),
                            message: text(r, "message"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            assessed_at: row.assessed_at,
            version: row.version,
        }
    }
}

/// A source's latest recorded health (its fields are the assessment's) and the history of its
/// changes.
pub struct DataSourceHealth {
    source_id: uuid::Uuid,
    latest: HealthAssessmentGql,
}

#[Object]
impl DataSourceHealth {
    /// The data source.
    async fn source_id(&self) -> ID {
        ID(self.source_id.to_string())
    }

    #[graphql(flatten)]
    async fn latest(&self) -> HealthAssessmentGql {
        self.latest.clone()
    }

    /// The last `last` recorded assessments (1 to 500), oldest first. A check records an
    /// assessment only when the health changed (status, recommendations, or a p95 latency move
    /// of more than 50 %), so this is the trend of changes.
    #[graphql(complexity = "crate::graphql::limits::list_cost(last, 500, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many, 1 to 500; more is a VALIDATION error.")]
        last: i32,
    ) -> Result<Vec<HealthAssessmentGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        if !(1..=500).contains(&last) {
            return Err(api_error(
                "VALIDATION",
                format!("last must be between 1 and 500 (got {last})"),
            ));
        }
        let rows = health::history(
            &services.pool,
            caller.tenant.as_str(),
            self.source_id,
            i64::from(last),
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows
            .into_iter()
            .map(HealthAssessmentGql::from_row)
            .collect())
    }
}

/// What `checkDataSourceHealth` found.
#[derive(SimpleObject)]
pub struct HealthCheck {
    /// The assessment of the source's recent probes, this check's included.
    pub health: HealthAssessmentGql,
    /// Whether the health changed meaningfully and was recorded (`HealthAssessed`).
    pub recorded: bool,
    /// The source's lifecycle state (health checks do not move it).
    pub lifecycle_state: String,
    /// With `waitForProjection`: whether the read models reflect the check.
    pub projected: bool,
}

#[derive(Default)]
pub struct HealthQuery;

#[Object]
impl HealthQuery {
    /// The latest recorded health of one of your tenant's sources, with its history; null until
    /// the source's health was first checked.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn data_source_health(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<DataSourceHealth>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let id = parse_id(&id)?;
        let source = id.as_uuid();
        let tenant = caller.tenant.as_str();
        if data_sources::get(&services.pool, tenant, source)
            .await
            .map_err(|err| internal(&err))?
            .is_none()
        {
            return Err(api_error("NOT_FOUND", format!("no data source {id}")));
        }
        let latest = health::latest(&services.pool, tenant, source)
            .await
            .map_err(|err| internal(&err))?;
        Ok(latest.map(|row| DataSourceHealth {
            source_id: source,
            latest: HealthAssessmentGql::from_row(row),
        }))
    }
}

#[derive(Default)]
pub struct HealthMutation;

#[Object]
impl HealthMutation {
    /// Probes the source `samples` times (1 to 20) now, assesses its recent probes and records
    /// the assessment (`HealthAssessed`) when the health changed. Archived sources are refused.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn check_data_source_health(
        &self,
        ctx: &Context<'_>,
        source_id: ID,
        #[graphql(default = 3)] samples: i32,
        command_id: Option<ID>,
        #[graphql(default = false)] wait_for_projection: bool,
    ) -> Result<HealthCheck> {
        let caller = authorize(ctx, Permission::ManageDataSources)?;
        let services = ctx.data_unchecked::<Services>();
        let source = parse_id(&source_id)?;
        let samples = u32::try_from(samples).map_err(|_| {
            api_error(
                "VALIDATION",
                format!("samples must be between 1 and 20 (got {samples})"),
            )
        })?;
        let command_id = command_id
            .map(|id| {
                uuid::Uuid::parse_str(id.as_str())
                    .map_err(|_| api_error("VALIDATION", "commandId must be a UUID"))
            })
            .transpose()?;
        let context = caller.command_context(command_id);
        let report: HealthReport = services
            .health
            .check_health(&context, source, samples)
            .await
            .map_err(command_error)?;
        let projected = wait_for_projection
            && super::mutation::wait_for_projection(services, report.sequence).await;
        Ok(HealthCheck {
            health: HealthAssessmentGql::from_domain(
                &report.assessment,
                Utc::now(),
                report.version,
            ),
            recorded: report.recorded,
            lifecycle_state: report.lifecycle.as_str().to_owned(),
            projected,
        })
    }
}
