//! The `lineageJobs` and `lineageJob` queries: the OpenLineage jobs that reported runs through
//! `POST /api/v1/lineage`, each with its runs (state, start and end, failure message) and
//! whether it looks unhealthy — its latest ended run failed or was aborted (`failing`), or it
//! has not started a run for more than twice its usual interval (`overdue`; the usual interval
//! is the median gap between the starts of its latest 11 runs, known from 3 runs on). An edge a
//! job stopped reporting is marked `stale` on the lineage edges themselves.
//!
//! Every argument is bounded (namespace 512 characters, name 1024, pages 1 to 100). Failure
//! messages are free text from the producer that may name any dataset, so a caller whose roles
//! reach only some assets (a custom role's condition) gets them as null.

use super::errors::internal;
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject, ID};
use domain::access::Permission;
use domain::lineage_job::openlineage::{MAX_NAMESPACE_CHARS, MAX_NAME_CHARS};
use projections::lineage::{self, JobHealth};

/// One OpenLineage job.
#[derive(SimpleObject)]
#[graphql(complex, name = "LineageJob")]
pub struct LineageJobGql {
    /// The job's id (derived from its namespace and name).
    pub id: ID,
    /// The OpenLineage job namespace, e.g. `airflow-prod`.
    pub namespace: String,
    /// The OpenLineage job name, e.g. `nightly.load_invoices`.
    pub name: String,
    /// The type of its latest event by `eventTime`: START, RUNNING, COMPLETE, ABORT, FAIL or
    /// OTHER.
    pub last_event_type: String,
    /// The `eventTime` of its latest event.
    pub last_event_time: chrono::DateTime<chrono::Utc>,
    /// How its latest ended run (by end time) ended: COMPLETE, FAIL or ABORT; null while none
    /// ended.
    pub last_ended_state: Option<String>,
    /// When its latest run started (the earliest `eventTime` heard of that run).
    pub last_run_started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// True when its latest ended run failed or was aborted.
    pub failing: bool,
    /// True when its latest run started more than twice its usual interval ago: the job seems
    /// to have stopped running. Always false while the usual interval is unknown.
    pub overdue: bool,
    /// The median time between the starts of its latest 11 runs, in seconds; null with fewer
    /// than 3 runs.
    pub usual_interval_seconds: Option<i64>,
    #[graphql(skip)]
    job_id: uuid::Uuid,
    #[graphql(skip)]
    show_errors: bool,
}

/// One run of a job.
#[derive(SimpleObject)]
#[graphql(name = "LineageRun")]
pub struct LineageRunGql {
    /// The run's `runId`.
    pub run_id: ID,
    /// START, RUNNING or OTHER while it runs (its latest event's type); COMPLETE, FAIL or ABORT
    /// once it ended.
    pub state: String,
    /// The earliest `eventTime` heard of the run (its START's, normally).
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// The `eventTime` of its COMPLETE, FAIL or ABORT; null while it runs.
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The `errorMessage` run facet's message, when the producer sent one: at most 2000
    /// characters, credentials in URLs and `password=`-like pairs masked. Null for callers whose
    /// roles reach only some assets.
    pub error_message: Option<String>,
}

#[ComplexObject]
impl LineageJobGql {
    /// Its runs, latest start first.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 100, child_complexity)")]
    async fn runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many runs, 1 to 100.")] first: i32,
    ) -> Result<Vec<LineageRunGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let first = crate::graphql::limits::page_size("first", first, 100)?;
        let services = ctx.data_unchecked::<Services>();
        let rows = lineage::runs(&services.pool, caller.tenant.as_str(), self.job_id, first)
            .await
            .map_err(|err| internal(&err))?;
        Ok(rows
            .into_iter()
            .map(|r| LineageRunGql {
                run_id: ID(r.run_id.to_string()),
                state: r.state,
                started_at: r.started_at,
                ended_at: r.ended_at,
                error_message: r.error_message.filter(|_| self.show_errors),
            })
            .collect())
    }
}

impl LineageJobGql {
    fn of(row: lineage::JobRow, show_errors: bool, now: chrono::DateTime<chrono::Utc>) -> Self {
        let health = JobHealth::of(row.last_ended_state.as_deref(), &row.recent_starts, now);
        Self {
            id: ID(row.job_id.to_string()),
            namespace: row.namespace,
            name: row.name,
            last_event_type: row.last_event_type,
            last_event_time: row.last_event_time,
            last_ended_state: row.last_ended_state,
            last_run_started_at: row.recent_starts.first().copied(),
            failing: health.failing,
            overdue: health.overdue,
            usual_interval_seconds: health.usual_interval_secs,
            job_id: row.job_id,
            show_errors,
        }
    }
}

fn check_text(argument: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(api_error(
            "VALIDATION",
            format!("{argument}: 1 to {max} characters, no control characters"),
        ));
    }
    Ok(())
}

#[derive(Default)]
pub struct LineageJobQuery;

#[Object]
impl LineageJobQuery {
    /// The OpenLineage jobs that reported runs, by namespace and name, with their health
    /// (`failing`, `overdue`) and runs.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 100, child_complexity)")]
    async fn lineage_jobs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only jobs of this namespace (exact, at most 512 characters).")]
        namespace: Option<String>,
        #[graphql(default = 50, desc = "Page size, 1 to 100.")] first: i32,
        #[graphql(desc = "The `id` of the last job of the previous page.")] after: Option<ID>,
    ) -> Result<Vec<LineageJobGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let first = crate::graphql::limits::page_size("first", first, 100)?;
        if let Some(namespace) = &namespace {
            check_text("namespace", namespace, MAX_NAMESPACE_CHARS)?;
        }
        let after = after
            .as_ref()
            .map(parse_id)
            .transpose()?
            .map(|a| a.as_uuid());
        let services = ctx.data_unchecked::<Services>();
        let show_errors = super::visibility::scope(caller).is_none();
        let now = chrono::Utc::now();
        let rows = lineage::jobs(
            &services.pool,
            caller.tenant.as_str(),
            namespace.as_deref(),
            after,
            first,
        )
        .await
        .map_err(|err| internal(&err))?;
        Ok(rows
            .into_iter()
            .map(|row| LineageJobGql::of(row, show_errors, now))
            .collect())
    }

    /// One OpenLineage job by its namespace and name; null when it never reported a run.
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn lineage_job(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The job's namespace, at most 512 characters.")] namespace: String,
        #[graphql(desc = "The job's name, at most 1024 characters.")] name: String,
    ) -> Result<Option<LineageJobGql>> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        check_text("namespace", &namespace, MAX_NAMESPACE_CHARS)?;
        check_text("name", &name, MAX_NAME_CHARS)?;
        let services = ctx.data_unchecked::<Services>();
        let show_errors = super::visibility::scope(caller).is_none();
        let row = lineage::job(&services.pool, caller.tenant.as_str(), &namespace, &name)
            .await
            .map_err(|err| internal(&err))?;
        Ok(row.map(|row| LineageJobGql::of(row, show_errors, chrono::Utc::now())))
    }
}
