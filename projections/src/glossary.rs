//! The `glossary` read model: each tenant's glossary terms (definition, synonyms, related terms,
//! owners, status) and their links to assets and columns, from the `Glossary` events; and the
//! queries behind `glossaryTerms`, `glossaryTerm` and `Asset.terms`.
//!
//! Links are kept as `(tenant, asset_id, column_name, term_name)` rows so that catalog search
//! can join them. Whoever lists a term's links reads them through the caller's asset scope
//! ([`crate::visibility`]): a link to an asset out of reach is absent, not redacted.

use crate::error::{DbContext, ProjectionError};
use crate::projection::{decode, Projection};
use domain::glossary::{Glossary, GlossaryEvent, TermContent};
use domain::Aggregate;
use eventlog::StoredEvent;
use futures::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

pub const NAME: &str = "glossary";

/// The glossary projection.
pub struct GlossaryProjection;

impl Projection for GlossaryProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn ddl(&self) -> &'static str {
        include_str!("glossary.sql")
    }

    fn aggregate_types(&self) -> Option<&'static [&'static str]> {
        Some(&[Glossary::NAME])
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        stored: &'a StoredEvent,
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            if stored.event.aggregatetype != Glossary::NAME {
                return Ok(());
            }
            let tenant = &stored.event.tenant;
            let sequence = stored.sequence as i64;
            let at = stored.event.time;
            let actor = &stored.event.actor;
            let json = |content: &TermContent| {
                (
                    serde_json::json!(content.synonyms),
                    serde_json::json!(content.related),
                    serde_json::json!(content.owners),
                )
            };
            match decode::<GlossaryEvent>(NAME, stored)? {
                GlossaryEvent::TermDefined(e) => {
                    let (synonyms, related, owners) = json(&e.content);
                    sqlx::query(
                        "INSERT INTO glossary_terms (tenant_id, id, name, definition, synonyms, related,
                             owners, status, created_at, updated_at, updated_by, sequence)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $8, $9, $10)
                         ON CONFLICT (tenant_id, id) DO NOTHING",
                    )
                    .bind(tenant)
                    .bind(e.term_id)
                    .bind(&e.name)
                    .bind(&e.content.definition)
                    .bind(synonyms)
                    .bind(related)
                    .bind(owners)
                    .bind(at)
                    .bind(actor)
                    .bind(sequence)
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
                GlossaryEvent::TermChanged(e) => {
                    let (synonyms, related, owners) = json(&e.content);
                    sqlx::query(
                        "UPDATE glossary_terms SET definition = $3, synonyms = $4, related = $5,
                             owners = $6, updated_at = $7, updated_by = $8, sequence = $9
                         WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant)
                    .bind(e.term_id)
                    .bind(&e.content.definition)
                    .bind(synonyms)
                    .bind(related)
                    .bind(owners)
                    .bind(at)
                    .bind(actor)
                    .bind(sequence)
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
                GlossaryEvent::TermApproved(e) => {
                    set_status(conn, stored, e.term_id, "approved", None).await?;
                }
                GlossaryEvent::TermDeprecated(e) => {
                    set_status(conn, stored, e.term_id, "deprecated", e.reason).await?;
                }
                GlossaryEvent::TermLinked(e) => {
                    // The name is the term's for good (names never change).
                    sqlx::query(
                        "INSERT INTO glossary_term_links (tenant_id, asset_id, column_name, term_id,
                             term_name, linked_at, linked_by, sequence)
                         SELECT $1, $2, $3, $4, t.name, $5, $6, $7
                         FROM glossary_terms t WHERE t.tenant_id = $1 AND t.id = $4
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(tenant)
                    .bind(e.asset_id.as_uuid())
                    .bind(e.column.as_deref())
                    .bind(e.term_id)
                    .bind(at)
                    .bind(actor)
                    .bind(sequence)
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
                GlossaryEvent::TermUnlinked(e) => {
                    sqlx::query(
                        "DELETE FROM glossary_term_links
                         WHERE tenant_id = $1 AND term_id = $2 AND asset_id = $3
                           AND column_name IS NOT DISTINCT FROM $4",
                    )
                    .bind(tenant)
                    .bind(e.term_id)
                    .bind(e.asset_id.as_uuid())
                    .bind(e.column.as_deref())
                    .execute(&mut *conn)
                    .await
                    .in_projection(NAME)?;
                }
            }
            Ok(())
        })
    }
}

/// Moves a term to `status`.
async fn set_status(
    conn: &mut PgConnection,
    stored: &StoredEvent,
    id: Uuid,
    status: &str,
    reason: Option<String>,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE glossary_terms SET status = $3, deprecation_reason = $4, updated_at = $5,
             updated_by = $6, sequence = $7
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&stored.event.tenant)
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(stored.event.time)
    .bind(&stored.event.actor)
    .bind(stored.sequence as i64)
    .execute(conn)
    .await
    .in_projection(NAME)?;
    Ok(())
}

/// One term row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermRow {
    pub id: Uuid,
    pub name: String,
    pub definition: String,
    pub synonyms: serde_json::Value,
    pub related: serde_json::Value,
    pub owners: serde_json::Value,
    pub status: String,
    pub deprecation_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
}

const TERM_COLUMNS: &str = "id, name, definition, synonyms, related, owners, status,
    deprecation_reason, created_at, updated_at, updated_by";

/// Filters for [`terms`].
#[derive(Debug, Clone, Default)]
pub struct TermFilter {
    /// Case-insensitive part of the name, a synonym or the definition (matched literally).
    pub search: Option<String>,
    /// `draft`, `approved` or `deprecated`.
    pub status: Option<String>,
    /// Keyset cursor: the lowercase name of the last term of the previous page.
    pub after: Option<String>,
    pub limit: i64,
}

/// `text` as a literal `ILIKE` pattern part: `%`, `_` and `\` lose their meaning.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A tenant's terms ordered by name (case-insensitive).
pub async fn terms(
    pool: &sqlx::PgPool,
    tenant: &str,
    filter: &TermFilter,
) -> Result<Vec<TermRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {TERM_COLUMNS} FROM rm_{NAME}.glossary_terms
         WHERE tenant_id = $1
           AND ($2::text IS NULL
                OR name ILIKE '%' || $2 || '%'
                OR definition ILIKE '%' || $2 || '%'
                OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(synonyms) s(v)
                           WHERE s.v ILIKE '%' || $2 || '%'))
           AND ($3::text IS NULL OR status = $3)
           AND ($4::text IS NULL OR lower(name) > $4)
         ORDER BY lower(name) LIMIT $5"
    ))
    .bind(tenant)
    .bind(filter.search.as_deref().map(like_literal))
    .bind(filter.status.as_deref())
    .bind(filter.after.as_deref().map(str::to_lowercase))
    .bind(filter.limit)
    .fetch_all(pool)
    .await
}

/// One term of a tenant.
pub async fn term(
    pool: &sqlx::PgPool,
    tenant: &str,
    id: Uuid,
) -> Result<Option<TermRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {TERM_COLUMNS} FROM rm_{NAME}.glossary_terms WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// One link of a term to an asset (or column), with the asset's path.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub term_id: Uuid,
    pub term_name: String,
    pub asset_id: Uuid,
    pub asset_path: String,
    pub column_name: Option<String>,
    pub linked_at: chrono::DateTime<chrono::Utc>,
}

/// The links of `term` to assets in `scope` ([`crate::visibility::scope_param`]; `None`: every
/// asset), by asset path and column. Links to assets out of scope are left out.
pub async fn term_links(
    pool: &sqlx::PgPool,
    tenant: &str,
    term: Uuid,
    scope: Option<&serde_json::Value>,
) -> Result<Vec<LinkRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT l.term_id, l.term_name, l.asset_id, a.path AS asset_path, l.column_name, l.linked_at
         FROM rm_{NAME}.glossary_term_links l
         JOIN rm_catalog.assets a ON a.tenant_id = l.tenant_id AND a.id = l.asset_id
         WHERE l.tenant_id = $1 AND l.term_id = $2 AND {visible}
         ORDER BY a.path, l.column_name NULLS FIRST",
        visible =
            crate::visibility::when_scoped(3, scope, || crate::visibility::asset_visible("a", 3))
    ))
    .bind(tenant)
    .bind(term)
    .bind(scope)
    .fetch_all(pool)
    .await
}

/// One term linked to an asset (or one of its columns).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetTermRow {
    pub term_id: Uuid,
    pub term_name: String,
    pub status: String,
    pub column_name: Option<String>,
}

/// The terms linked to `asset` or its columns, by column (the asset's own first) and name. The
/// caller has already established that it may read the asset.
pub async fn asset_terms(
    pool: &sqlx::PgPool,
    tenant: &str,
    asset: Uuid,
) -> Result<Vec<AssetTermRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT l.term_id, l.term_name, t.status, l.column_name
         FROM rm_{NAME}.glossary_term_links l
         JOIN rm_{NAME}.glossary_terms t ON t.tenant_id = l.tenant_id AND t.id = l.term_id
         WHERE l.tenant_id = $1 AND l.asset_id = $2
         ORDER BY l.column_name NULLS FIRST, lower(l.term_name)"
    ))
    .bind(tenant)
    .bind(asset)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_text_matches_literally() {
        assert_eq!(super::like_literal("100%_a\\b"), "100\\%\\_a\\\\b");
    }
}
