//! The `search` query: ranked full-text search over the catalog's search documents
//! ([`projections::search`]) with typo tolerance, highlights, facet counts and an opaque cursor.
//!
//! The query text and every filter are bounded and validated before any SQL runs; the text
//! reaches SQL only as words of letters and digits. The tenant always comes from the caller, and
//! the caller's scope filters matches before ranking, paging and counting, so a cursor — which
//! only holds a score and an asset id — positions within the caller's own results and cannot
//! reach anything else, whatever it is forged to say.

use super::catalog::AssetGql;
use super::errors::internal;
use super::query::parse_id;
use super::{api_error, authorize, Services};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use base64::Engine;
use domain::access::Permission;
use projections::search::{self, Expanded, Search, SearchFilters};
use std::collections::HashMap;

/// Most values in one filter list.
const MAX_FILTER_VALUES: usize = 50;
/// Longest filter value, in characters.
const MAX_FILTER_CHARS: usize = 200;
/// Largest page.
const MAX_PAGE: i32 = 100;

/// Which documents a search considers: each list admits assets with any of its values (an
/// empty or absent list admits all); lists combine with AND. Facet counts are counted under
/// every filter.
#[derive(InputObject, Default)]
pub struct SearchFiltersInput {
    /// Data source ids.
    #[graphql(default)]
    pub sources: Vec<async_graphql::ID>,
    /// Asset kinds, e.g. `table`, `view`.
    #[graphql(default)]
    pub kinds: Vec<String>,
    /// Labels applied or confirmed on at least one column, e.g. `EMAIL_ADDRESS`.
    #[graphql(default)]
    pub labels: Vec<String>,
    /// Sensitivities of those labels: low, medium, high or critical.
    #[graphql(default)]
    pub sensitivities: Vec<String>,
    /// Frameworks (gdpr, pci-dss, hipaa, soc2) with an open violation on the asset.
    #[graphql(default)]
    pub frameworks: Vec<String>,
    /// Tags the asset has: its own, else its source's (as `Asset.tags`).
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Owner names (exact): the asset's own owner, else its source's (as `Asset.owner`).
    #[graphql(default)]
    pub owners: Vec<String>,
    /// Names (exact) of glossary terms linked to the asset or one of its columns.
    #[graphql(default)]
    pub terms: Vec<String>,
    /// Include assets no longer found by scans.
    #[graphql(default = false)]
    pub include_removed: bool,
}

fn bounded(name: &str, values: Vec<String>) -> Result<Vec<String>> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(api_error(
            "VALIDATION",
            format!("filters.{name}: at most {MAX_FILTER_VALUES} values"),
        ));
    }
    if values
        .iter()
        .any(|v| v.chars().count() > MAX_FILTER_CHARS || v.contains('\0'))
    {
        return Err(api_error(
            "VALIDATION",
            format!(
                "filters.{name}: values are at most {MAX_FILTER_CHARS} characters, without NUL"
            ),
        ));
    }
    Ok(values)
}

impl SearchFiltersInput {
    fn validate(self) -> Result<SearchFilters> {
        if self.sources.len() > MAX_FILTER_VALUES {
            return Err(api_error(
                "VALIDATION",
                format!("filters.sources: at most {MAX_FILTER_VALUES} values"),
            ));
        }
        Ok(SearchFilters {
            sources: self
                .sources
                .iter()
                .map(|id| parse_id(id).map(|id| id.as_uuid()))
                .collect::<Result<_>>()?,
            kinds: bounded("kinds", self.kinds)?,
            labels: bounded("labels", self.labels)?,
            sensitivities: bounded("sensitivities", self.sensitivities)?,
            frameworks: bounded("frameworks", self.frameworks)?,
            tags: bounded("tags", self.tags)?,
            owners: bounded("owners", self.owners)?,
            terms: bounded("terms", self.terms)?,
            include_removed: self.include_removed,
        })
    }
}

/// The cursor after a hit: its score's bits and its id, base64url-encoded. Only ever compared
/// within the caller's own tenant and scope.
fn encode_cursor(score: f32, id: uuid::Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("s1:{:08x}:{id}", score.to_bits()))
}

fn decode_cursor(cursor: &str) -> Result<(f32, uuid::Uuid)> {
    let bad = || api_error("VALIDATION", "after: not a cursor this search returned");
    if cursor.len() > 128 {
        return Err(bad());
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (Some("s1"), Some(bits), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let bits = u32::from_str_radix(bits, 16).map_err(|_| bad())?;
    let score = f32::from_bits(bits);
    if !score.is_finite() {
        return Err(bad());
    }
    Ok((score, uuid::Uuid::parse_str(id).map_err(|_| bad())?))
}

/// One piece of a highlighted field.
#[derive(SimpleObject)]
pub struct HighlightFragment {
    /// The text, as stored (never markup).
    pub text: String,
    /// Whether this piece is a word the query matched (itself, as a prefix, or a typo
    /// correction of it).
    pub matched: bool,
}

/// A field of the hit that the query matched, cut into fragments (the first 200 characters).
#[derive(SimpleObject)]
pub struct SearchHighlight {
    /// name, path, column, description, label, tag, owner or term.
    pub field: String,
    /// The field's text in order, matched words marked.
    pub fragments: Vec<HighlightFragment>,
}

/// One asset that matched.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The asset.
    pub asset: AssetGql,
    /// Relevance: higher is better (full-text rank, name first, plus 1 when the asset's name is
    /// exactly the query's words). Comparable within one search only.
    pub score: f64,
    /// The fields the query matched, with the matched words marked.
    pub highlights: Vec<SearchHighlight>,
}

/// One value of a facet with the number of matching assets that have it.
#[derive(SimpleObject)]
pub struct FacetValue {
    /// The value (a source id for `source`).
    pub value: String,
    /// Matching assets (within your roles' reach) that have it.
    pub count: i64,
}

/// The values of one facet, most frequent first (ties by value), at most 25.
#[derive(SimpleObject)]
pub struct SearchFacet {
    /// source, kind, label, sensitivity, framework, tag, owner or term. `tag` and `owner` count
    /// the effective values (the asset's own, else its source's); `term` counts the names of the
    /// glossary terms linked to the asset or its columns.
    pub name: String,
    /// Its values with their counts.
    pub values: Vec<FacetValue>,
}

/// Counts over every asset the search matched (under all filters), not just the page, or over a
/// sample of them (`exact` false).
#[derive(SimpleObject)]
pub struct SearchFacets {
    /// Matching assets when `exact`. Otherwise `estimatedTotal` when it is 2000 or less, else
    /// 2001, read as "more than 2000".
    pub total: i64,
    /// True when every match was counted. False when more than 2000 assets matched, or when the
    /// query's words are common enough in a large catalogue (each in thousands of assets, their
    /// conjunction in several hundred or more) that intersecting them over every asset would
    /// dominate the search: the values' counts are then over a sample of the matches (so read
    /// them as proportions, not totals) and the hits were ranked among that sample's first 2000
    /// matches and up to 200 assets whose name starts with the query's words, not among all
    /// matches. The sample is the first 2001 matches in index order or the matches among a fixed
    /// pseudo-random sixteenth, 64th or 256th of the assets (chosen by their ids).
    pub exact: bool,
    /// The number of matching assets: `total` when `exact`; estimated from a pseudo-random sample
    /// when one was counted in full (its matches times the assets each stands for, 16, 64 or 256);
    /// null when not known.
    pub estimated_total: Option<i64>,
    /// Every facet, in a fixed order (a facet without values is listed with none).
    pub facets: Vec<SearchFacet>,
}

/// A page of search results.
pub struct SearchResult {
    pub(crate) hits: Vec<SearchHit>,
    pub(crate) next_cursor: Option<String>,
    /// Counted beside the hits when the request selected them.
    pub(crate) facets: Option<search::Facets>,
}

#[Object]
impl SearchResult {
    /// The page's hits, best first; ties by asset id.
    async fn hits(&self) -> &[SearchHit] {
        &self.hits
    }

    /// Pass as `after` for the next page; null on the last page.
    async fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    /// Facet counts and the number of matches (one more database read, run beside the hits';
    /// ask for it on the first page only if the filters do not change).
    #[graphql(complexity = "crate::graphql::limits::DB_COST + child_complexity")]
    async fn facets(&self) -> SearchFacets {
        let empty = search::Facets::default();
        let counted = self.facets.as_ref().unwrap_or(&empty);
        SearchFacets {
            total: counted.total,
            exact: counted.exact,
            estimated_total: counted.estimated_total,
            facets: search::FACETS
                .iter()
                .map(|name| SearchFacet {
                    name: (*name).to_owned(),
                    values: counted
                        .values
                        .get(*name)
                        .map(|values| {
                            values
                                .iter()
                                .map(|(value, count)| FacetValue {
                                    value: value.clone(),
                                    count: *count,
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

fn highlights(row: &search::HitRow, expanded: &[Expanded]) -> Vec<SearchHighlight> {
    if expanded.is_empty() {
        return Vec::new();
    }
    let mut fields: Vec<(&str, String)> =
        vec![("name", row.name.clone()), ("path", row.path.clone())];
    fields.extend(row.columns.iter().map(|c| ("column", c.clone())));
    fields.extend(row.description.iter().map(|d| ("description", d.clone())));
    fields.extend(row.labels.iter().map(|l| ("label", l.clone())));
    if let Some(tags) = row.tags.as_array() {
        fields.extend(
            tags.iter()
                .filter_map(|t| t.as_str())
                .map(|t| ("tag", t.to_owned())),
        );
    }
    fields.extend(row.owner.iter().map(|o| ("owner", o.clone())));
    fields.extend(row.terms.iter().map(|t| ("term", t.clone())));
    fields
        .into_iter()
        .filter_map(|(field, text)| {
            search::highlight(&text, expanded).map(|fragments| SearchHighlight {
                field: field.to_owned(),
                fragments: fragments
                    .into_iter()
                    .map(|f| HighlightFragment {
                        text: f.text,
                        matched: f.matched,
                    })
                    .collect(),
            })
        })
        // A wide table may match in hundreds of columns: the first few tell why it matched.
        .take(12)
        .collect()
}

/// What `search` resolves: the words, the page and its cursor.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    pool: &sqlx::PgPool,
    tenant: &str,
    query: &str,
    filters: SearchFilters,
    scope: Option<serde_json::Value>,
    first: i64,
    after: Option<(f32, uuid::Uuid)>,
    with_facets: bool,
    bounded: bool,
) -> Result<SearchResult, sqlx::Error> {
    let terms = search::terms(query);
    let expanded = search::expand(pool, tenant, &terms).await?;
    let mut search = Search {
        tsquery: search::tsquery(&expanded),
        name_key: terms.join(" "),
        filters,
        scope,
        bounded,
        sample: search::Sample::All,
    };
    search.sample = search::sample(pool, tenant, &search).await?;
    // The facet counts go to the database beside the hits: each reads the same matches, and
    // one waiting for the other would add their times.
    let counting = async {
        match with_facets {
            true => search::facets(pool, tenant, &search).await.map(Some),
            false => Ok(None),
        }
    };
    let (rows, facets) = futures::try_join!(
        search::hits(pool, tenant, &search, after, first + 1),
        counting
    )?;
    let mut rows = rows;
    let more = rows.len() as i64 > first;
    rows.truncate(first as usize);
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut assets: HashMap<uuid::Uuid, projections::catalog::AssetRow> =
        projections::catalog::assets_by_ids(pool, tenant, &ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(r.score, r.id))
    } else {
        None
    };
    let hits = rows
        .iter()
        .filter_map(|row| {
            assets.remove(&row.id).map(|asset| SearchHit {
                asset: AssetGql(asset),
                score: f64::from(row.score),
                highlights: highlights(row, &expanded),
            })
        })
        .collect();
    Ok(SearchResult {
        hits,
        next_cursor,
        facets,
    })
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Ranked full-text search over your tenant's assets: names and paths, column names and
    /// comments, descriptions, labels, tags, owners and the names and synonyms of the glossary
    /// terms linked to the asset or its columns. Every word
    /// must match, as a prefix or — when no word of your catalogue starts with it — as a close
    /// spelling; punctuation and operators in the text are only separators. Only assets your
    /// roles reach are found and counted. A query matching more than 2000 assets is ranked among
    /// a sample of its matches (its first 2000 in index order or, for words matching thousands
    /// of assets, those among a fixed pseudo-random part of the catalogue) and up to 200 assets
    /// whose name starts with its words, and its facets are counted over that sample:
    /// `facets { exact estimatedTotal }` says so. The empty query lists every asset in id order.
    #[graphql(complexity = "crate::graphql::limits::list_cost(first, 100, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The words to find, at most 512 characters (the first 8 words count). Empty: every asset, in id order."
        )]
        query: String,
        #[graphql(desc = "Narrows the matches; facets count under these filters too.")]
        filters: Option<SearchFiltersInput>,
        #[graphql(
            default = 20,
            desc = "Page size, 1 to 100; more is a VALIDATION error."
        )]
        first: i32,
        #[graphql(desc = "`nextCursor` of the previous page, with the same query and filters.")]
        after: Option<String>,
    ) -> Result<SearchResult> {
        let caller = authorize(ctx, Permission::ReadCatalog)?;
        let services = ctx.data_unchecked::<Services>();
        let first = crate::graphql::limits::page_size("first", first, MAX_PAGE)?;
        if query.chars().count() > search::MAX_QUERY_CHARS {
            return Err(api_error(
                "VALIDATION",
                format!("query: at most {} characters", search::MAX_QUERY_CHARS),
            ));
        }
        let filters = filters.unwrap_or_default().validate()?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let with_facets = ctx.look_ahead().field("facets").exists();
        run(
            &services.pool,
            caller.tenant.as_str(),
            &query,
            filters,
            super::visibility::scope(caller),
            first,
            after,
            with_facets,
            true,
        )
        .await
        .map_err(|err| internal(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forgeries_are_refused() {
        let id = uuid::Uuid::new_v4();
        let cursor = encode_cursor(0.4375, id);
        assert_eq!(decode_cursor(&cursor).unwrap(), (0.4375, id));
        let long = "A".repeat(500);
        for bad in ["", "!!!", "czE6eHh4", long.as_str()] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        let nan = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("s1:{:08x}:{id}", f32::NAN.to_bits()));
        assert!(decode_cursor(&nan).is_err());
    }
}
