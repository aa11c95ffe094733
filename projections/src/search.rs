//! Search over the catalog: one search document per asset (`rm_catalog.search_documents`), kept
//! by the catalog projection in the batch that changes the asset, its metadata or its labels
//! ([`refresh`]), and a per-tenant lexicon of the documents' words (`search_words`, trigram
//! indexed) that makes queries tolerate typos.
//!
//! A document holds the parts a person searches by — name, path, column names and comments,
//! description and comment, labels, tags, owner and glossary terms — both as a weighted
//! `tsvector` (name A; path, labels, tags, owner and terms B; columns C; description D) and as the
//! plain values that facets count and filters match. The glossary terms are those linked to the
//! asset or any of its columns (the catalog's copy of the glossary links, `search_term_links`):
//! their names are the `terms` values the `term` facet counts, and names and synonyms are words
//! of the document (weight B).
//!
//! Owner and tags in the document are the asset's own. Facets and filters count and match the
//! effective ones — the asset's own, else its source's, as the catalog shows them — by reading
//! the source beside the document (`data_sources` read model) when the query runs, so a change
//! of a source's owner needs no rewrite of its assets' documents.
//!
//! Query text is hostile: it never reaches SQL as syntax. [`terms`] keeps at most
//! [`MAX_TERMS`] runs of letters and digits of a bounded length, so the `tsquery` built from them
//! ([`tsquery`]) has no operator the caller wrote; everything else is a bound parameter.
//! Every query is keyed by tenant and filtered by the caller's scope
//! ([`crate::visibility::asset_visible`]) before ranking, paging and counting.

use crate::visibility::{asset_visible, when_scoped};
use domain::classification::ClassificationType;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::{BTreeMap, HashSet};

/// The most words of a query that are searched for; the rest are ignored.
pub const MAX_TERMS: usize = 8;
/// The longest word searched for, in characters; longer ones are cut.
pub const MAX_TERM_CHARS: usize = 64;
/// The longest query text read, in characters (the API refuses longer ones).
pub const MAX_QUERY_CHARS: usize = 512;
/// Corrections looked up per misspelled word.
const CORRECTIONS: i64 = 3;
/// The shortest query word matched as a prefix: a word of one or two characters (`id`, `at`,
/// `7`) is matched as a whole word only, since as a prefix it would match a large part of any
/// catalogue and cost the index a pass over all of it.
pub const MIN_PREFIX_CHARS: usize = 3;
/// The most words of the tenant's lexicon a query word's prefix is expanded into. A prefix is
/// searched as the exact words of the lexicon that start with it when there are at most this
/// many: the index then answers a conjunction by skipping through the rarer word's entries,
/// where a prefix (`sales:*`) makes it collect every entry of every word first (a tenfold
/// difference for two common words at a million documents). A prefix of more words stays a
/// prefix: a long alternation of rare words costs more to test on each row than the prefix,
/// and the planner's estimate for it adds up every word's, which made it choose a sequential
/// scan (20 alternatives of 25 documents each: 210 ms scanned against 1.5 ms as a prefix, at
/// 100 000 documents).
pub const EXPANSIONS: i64 = 8;
/// Matches among the documents of bucket 0 (1/256) from which a bounded search is ranked and
/// counted over bucket 0 alone ([`Sample`]): it then matches about 32 000 documents or more.
pub const SAMPLE_256_AT: i64 = 128;
/// Matches among the documents of bucket 0 from which buckets 0 to 3 and then 0 to 15 are
/// counted too (the search may match several hundred documents or more).
pub const SAMPLE_16_PROBE_AT: i64 = 2;
/// Matches among the documents of buckets 0 to 3 (1/64) from which a bounded search is ranked
/// and counted over them: it then matches about 8 000 documents or more. Below, buckets 0 to 15
/// hold fewer than about 500 matches, so no sample ranks more than a few hundred documents
/// unless its words match most of a catalogue of millions.
pub const SAMPLE_64_AT: i64 = 128;
/// Matches among the documents of buckets 0 to 15 (1/16) from which a bounded search is ranked
/// and counted over them: it then matches about 770 documents or more. What a search over every
/// document costs is not its matches but the index entries of its words: two words in a
/// twentieth and a fortieth of a million documents each (66 000 entries) cost about 10 ms to
/// intersect, in the hits and again in the facets, however few documents have both; over
/// buckets 0 to 15 a sixteenth of that. Such a search's count is then an estimate
/// ([`Facets::exact`] false).
pub const SAMPLE_16_AT: i64 = 48;
/// Values listed per facet, most frequent first.
pub const FACET_VALUES: usize = 25;
/// A bounded search (the API's) ranks at most this many matches in index order, beside at most
/// [`MAX_NAMED`] assets whose name starts with the query's words: a query matching more is
/// ranked among those candidates instead of among all its matches.
pub const MAX_RANKED: i64 = 2_000;
/// Assets whose name starts with the query's words that a bounded search always ranks.
pub const MAX_NAMED: i64 = 200;
/// A bounded search counts its facets over at most this many matches (in index order); above,
/// the counts are marked inexact ([`Facets::exact`]).
pub const MAX_COUNTED: i64 = 2_000;

/// SQL that turns the text expression `expr` into words the `simple` parser splits the same
/// way every time: camelCase and every run of non-alphanumerics become spaces (so
/// `orders_db.public.customerOrders` is `orders db public customer Orders`).
fn words(expr: &str) -> String {
    format!(
        "regexp_replace(regexp_replace(COALESCE({expr}, ''), '([[:lower:][:digit:]])([[:upper:]])', '\\1 \\2', 'g'), '[^[:alnum:]]+', ' ', 'g')"
    )
}

/// The insert-or-update of the documents of the assets selected by `filter` (SQL over `a`), from
/// the catalog tables in the current `search_path`. `$1` is the tenant, `$2` the label
/// sensitivities ([`sensitivities`]).
fn document_sql(filter: &str) -> String {
    let weighted = |expr: String, weight: char| {
        format!(
            "setweight(to_tsvector('simple', {}), '{weight}')",
            words(&expr)
        )
    };
    format!(
        "INSERT INTO search_documents AS d (tenant_id, id, source_id, kind, name, name_key, path, removed,
             owner, tags, description, columns, labels, sensitivities, terms, document)
         SELECT a.tenant_id, a.id, a.source_id, a.kind, a.name, lower(trim({name_key})), a.path, a.removed,
             a.owner, a.tags, ds.description, c.columns, l.labels, l.sensitivities, g.terms,
             {name} || {path} || {labels} || {tags} || {owner} || {terms} || {columns} || {description}
         FROM assets a
         CROSS JOIN LATERAL (
             SELECT COALESCE(array_agg(col->>'name' ORDER BY ord) FILTER (WHERE col->>'name' IS NOT NULL), '{{}}') AS columns,
                    string_agg(concat_ws(' ', col->>'name', col->>'comment'), ' ') AS column_text
             FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.schema->'columns') = 'array'
                                            THEN a.schema->'columns' ELSE '[]'::jsonb END)
                  WITH ORDINALITY AS x(col, ord)) c
         CROSS JOIN LATERAL (
             SELECT COALESCE(array_agg(DISTINCT cl.label), '{{}}') AS labels,
                    COALESCE(array_agg(DISTINCT COALESCE($2::jsonb->>cl.label, 'medium')), '{{}}') AS sensitivities
             FROM column_labels cl
             WHERE cl.tenant_id = a.tenant_id AND cl.asset_id = a.id AND cl.status IN ('applied', 'confirmed')) l
         CROSS JOIN LATERAL (
             SELECT COALESCE(array_agg(st.name ORDER BY st.name), '{{}}') AS terms,
                    string_agg(concat_ws(' ', st.name, array_to_string(st.synonyms, ' ')), ' ') AS term_text
             FROM search_terms st
             WHERE st.tenant_id = a.tenant_id
               AND st.term_id IN (SELECT k.term_id FROM search_term_links k
                                  WHERE k.tenant_id = a.tenant_id AND k.asset_id = a.id)) g
         CROSS JOIN LATERAL (
             SELECT NULLIF(concat_ws(' ', a.description, a.schema->>'comment'), '') AS description) ds
         CROSS JOIN LATERAL (
             SELECT CASE WHEN jsonb_typeof(a.tags) = 'array'
                         THEN (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(a.tags) t) END AS tag_text) t
         WHERE a.tenant_id = $1 AND {filter}
         ON CONFLICT (tenant_id, id) DO UPDATE SET source_id = EXCLUDED.source_id, kind = EXCLUDED.kind,
             name = EXCLUDED.name, name_key = EXCLUDED.name_key, path = EXCLUDED.path,
             removed = EXCLUDED.removed, owner = EXCLUDED.owner, tags = EXCLUDED.tags,
             description = EXCLUDED.description, columns = EXCLUDED.columns, labels = EXCLUDED.labels,
             sensitivities = EXCLUDED.sensitivities, terms = EXCLUDED.terms, document = EXCLUDED.document",
        name_key = words("a.name"),
        name = weighted("a.name".into(), 'A'),
        path = weighted("a.path".into(), 'B'),
        labels = weighted("array_to_string(l.labels, ' ')".into(), 'B'),
        tags = weighted("t.tag_text".into(), 'B'),
        owner = weighted("a.owner".into(), 'B'),
        terms = weighted("g.term_text".into(), 'B'),
        columns = weighted("c.column_text".into(), 'C'),
        description = weighted("ds.description".into(), 'D'),
    )
}

/// The words of the documents selected by `filter` (SQL over `d`) added to the tenant's lexicon.
/// Words are never taken out: a stale one only offers a correction or an expansion
/// ([`EXPANSIONS`]) that matches nothing. Every word of three letters or more is kept, also the
/// longer ones a query word (cut at [`MAX_TERM_CHARS`]) can only be a prefix of.
fn lexicon_sql(filter: &str) -> String {
    format!(
        "INSERT INTO search_words (tenant_id, word)
         SELECT DISTINCT $1, w FROM search_documents d, unnest(tsvector_to_array(d.document)) w
         WHERE d.tenant_id = $1 AND {filter} AND char_length(w) >= 3
         ON CONFLICT DO NOTHING"
    )
}

/// Each built-in label's sensitivity (custom labels count as medium, as everywhere else).
pub fn sensitivities() -> Value {
    Value::Object(
        ClassificationType::ALL
            .iter()
            .map(|t| {
                (
                    t.as_str().to_owned(),
                    Value::String(t.sensitivity().as_str().to_owned()),
                )
            })
            .collect(),
    )
}

/// Rewrites the search documents of `ids` (assets of `tenant`) from the catalog tables, on a
/// connection whose `search_path` is the catalog's schema (the projection's batch).
pub async fn refresh(
    conn: &mut PgConnection,
    tenant: &str,
    ids: &[uuid::Uuid],
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(&document_sql("a.id = ANY($3)"))
        .bind(tenant)
        .bind(sensitivities())
        .bind(ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&lexicon_sql("d.id = ANY($2)"))
        .bind(tenant)
        .bind(ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Rewrites every search document of `tenant` (after a bulk load, or to rebuild the index
/// without replaying the stream), on a connection whose `search_path` is the catalog's schema.
pub async fn refresh_all(conn: &mut PgConnection, tenant: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&document_sql("true"))
        .bind(tenant)
        .bind(sensitivities())
        .execute(&mut *conn)
        .await?;
    sqlx::query(&lexicon_sql("true"))
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The words of a query: runs of letters and digits (camelCase split), lowercased, at most
/// [`MAX_TERMS`] of at most [`MAX_TERM_CHARS`] characters, duplicates dropped. Everything else
/// the caller typed (quotes, `&|!():*`, backslashes) is a separator.
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in split_words(query) {
        let word: String = word
            .chars()
            .flat_map(char::to_lowercase)
            .take(MAX_TERM_CHARS)
            .collect();
        if !word.is_empty() && !out.contains(&word) {
            out.push(word);
            if out.len() == MAX_TERMS {
                break;
            }
        }
    }
    out
}

/// Whether `c` is part of a word: letters and decimal digits, as PostgreSQL's `[[:alnum:]]`.
fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit()
}

/// Splits `text` into words (the same boundaries as [`words`]): runs of word characters, with a
/// new word where a capital follows a lower-case letter or a digit.
fn split_words(text: &str) -> Vec<&str> {
    word_spans(text)
        .into_iter()
        .map(|(start, end)| &text[start..end])
        .collect()
}

/// Byte ranges of the words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut previous: Option<char> = None;
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            match start {
                None => start = Some(i),
                Some(s) => {
                    let camel = c.is_uppercase()
                        && previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
                    if camel {
                        spans.push((s, i));
                        start = Some(i);
                    }
                }
            }
        } else if let Some(s) = start.take() {
            spans.push((s, i));
        }
        previous = Some(c);
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

/// What each query word matches: itself and its English singular as prefixes, and (when no word
/// of the tenant's lexicon starts with it) the closest words of the lexicon.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expanded {
    pub term: String,
    pub corrections: Vec<String>,
    /// For each of [`Expanded::prefixes`], in order: the words of the tenant's lexicon starting
    /// with it, when there are one to [`EXPANSIONS`] of them. `None` (or no entry) searches the
    /// prefix as a prefix.
    pub expansions: Vec<Option<Vec<String>>>,
}

impl Expanded {
    /// The word as typed and, for an English plural, its singular (`categories` also as
    /// `category`, `boxes` as `box`, `manifests` as `manifest`): catalog names mix both, and the
    /// `simple` configuration does not stem. Each matches as a prefix.
    pub fn prefixes(&self) -> Vec<String> {
        let t = &self.term;
        let mut out = vec![t.clone()];
        let mut strip = |suffix: &str, with: &str| {
            if let Some(stem) = t.strip_suffix(suffix) {
                if stem.chars().count() >= 3 {
                    out.push(format!("{stem}{with}"));
                }
            }
        };
        if t.ends_with("ies") {
            strip("ies", "y");
        } else if t.ends_with("ses")
            || t.ends_with("xes")
            || t.ends_with("ches")
            || t.ends_with("shes")
        {
            strip("es", "");
        } else if !t.ends_with("ss") {
            strip("s", "");
        }
        out
    }
}

/// Looks up, in the tenant's lexicon and in one statement, corrections for the words of `terms`
/// that no document word starts with (trigram similarity), and the words each prefix of three
/// letters or more is expanded into ([`Expanded::expansions`]: at most [`EXPANSIONS`] + 1 read
/// per prefix, one more telling that there are too many). A prefix no lexicon word starts with
/// stays a prefix, so documents written without their lexicon are still found.
pub async fn expand(
    pool: &sqlx::PgPool,
    tenant: &str,
    terms: &[String],
) -> Result<Vec<Expanded>, sqlx::Error> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut expanded: Vec<Expanded> = terms
        .iter()
        .map(|t| Expanded {
            term: t.clone(),
            ..Expanded::default()
        })
        .collect();
    // Every prefix to expand, and which term's which prefix it is.
    let mut prefixes: Vec<String> = Vec::new();
    let mut at: Vec<(usize, usize)> = Vec::new();
    for (i, e) in expanded.iter_mut().enumerate() {
        let own = e.prefixes();
        e.expansions = vec![None; own.len()];
        for (j, prefix) in own.into_iter().enumerate() {
            if prefix.chars().count() >= MIN_PREFIX_CHARS && is_word(&prefix) {
                prefixes.push(prefix);
                at.push((i, j));
            }
        }
    }
    let rows: Vec<(bool, i64, String)> = sqlx::query_as(&format!(
        "SELECT true, q.ord, w.word FROM unnest($2::text[]) WITH ORDINALITY AS q(term, ord)
         CROSS JOIN LATERAL (
             SELECT s.word FROM rm_catalog.search_words s
             WHERE s.tenant_id = $1 AND s.word OPERATOR(public.%) q.term
               AND NOT EXISTS (
                   SELECT 1 FROM rm_catalog.search_words p
                   WHERE p.tenant_id = $1 AND p.word >= q.term AND p.word < q.term || chr(1114111))
             ORDER BY s.word OPERATOR(public.<->) q.term, s.word
             LIMIT {CORRECTIONS}) w
         UNION ALL
         SELECT false, q.ord, w.word FROM unnest($3::text[]) WITH ORDINALITY AS q(prefix, ord)
         CROSS JOIN LATERAL (
             SELECT s.word FROM rm_catalog.search_words s
             WHERE s.tenant_id = $1 AND s.word >= q.prefix AND s.word < q.prefix || chr(1114111)
             ORDER BY s.word
             LIMIT {}) w",
        EXPANSIONS + 1
    ))
    .bind(tenant)
    .bind(terms)
    .bind(&prefixes)
    .fetch_all(pool)
    .await?;
    let mut found: Vec<Vec<String>> = vec![Vec::new(); prefixes.len()];
    for (correction, ord, word) in rows {
        let ord = (ord - 1) as usize;
        if correction {
            if let Some(e) = expanded.get_mut(ord) {
                if is_word(&word) {
                    e.corrections.push(word);
                }
            }
        } else if let Some(words) = found.get_mut(ord) {
            words.push(word);
        }
    }
    for ((i, j), words) in at.into_iter().zip(found) {
        let usable = !words.is_empty()
            && words.len() as i64 <= EXPANSIONS
            && words.iter().all(|w| is_word(w));
        if usable {
            expanded[i].expansions[j] = Some(words);
        }
    }
    Ok(expanded)
}

/// Whether the lexicon's `word` may enter a query: the lexicon is ours, but the query text built
/// from it must never carry an operator.
fn is_word(word: &str) -> bool {
    !word.is_empty() && word.chars().all(is_word_char)
}

/// The `tsquery` text of the expanded words: every word (as a prefix, or one of its
/// corrections) must match. Words hold only letters and digits, so the text has no operator
/// but ours; `None` when there is no word (every document matches).
pub fn tsquery(expanded: &[Expanded]) -> Option<String> {
    let parts: Vec<String> = expanded
        .iter()
        .filter(|e| e.term.chars().all(is_word_char) && !e.term.is_empty())
        .map(|e| {
            let mut alternatives: Vec<String> = Vec::new();
            for (j, prefix) in e.prefixes().iter().enumerate() {
                match e.expansions.get(j) {
                    Some(Some(words)) => alternatives.extend(words.iter().cloned()),
                    _ if prefix.chars().count() < MIN_PREFIX_CHARS => {
                        alternatives.push(prefix.clone())
                    }
                    _ => alternatives.push(format!("{prefix}:*")),
                }
            }
            alternatives.extend(e.corrections.iter().cloned());
            let mut seen = HashSet::new();
            alternatives.retain(|a| seen.insert(a.clone()));
            format!("({})", alternatives.join(" | "))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" & "))
}

/// Filters of a search: each list admits any of its values (empty: no filter); lists combine
/// with AND.
#[derive(Debug, Clone, Default)]
pub struct SearchFilters {
    pub sources: Vec<uuid::Uuid>,
    pub kinds: Vec<String>,
    pub labels: Vec<String>,
    pub sensitivities: Vec<String>,
    /// Frameworks with an open violation on the asset (the compliance read model).
    pub frameworks: Vec<String>,
    /// Effective tags (the asset's own, else its source's).
    pub tags: Vec<String>,
    /// Effective owners (the asset's own, else its source's).
    pub owners: Vec<String>,
    /// Names of glossary terms linked to the asset or one of its columns.
    pub terms: Vec<String>,
    pub include_removed: bool,
}

/// A search: the tenant's documents matching `tsquery` (all when `None`), within `scope` and
/// `filters`.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub tsquery: Option<String>,
    /// The query words joined by spaces: a name made of exactly these words ranks first.
    pub name_key: String,
    pub filters: SearchFilters,
    /// The caller's scope ([`crate::visibility::scope_param`]); `None`: every asset.
    pub scope: Option<Value>,
    /// Bound the rows ranked and counted ([`MAX_RANKED`], [`MAX_COUNTED`]); `false` ranks and
    /// counts every match (exact, and slow for queries matching a large part of the catalogue).
    pub bounded: bool,
    /// The documents a bounded search ranks and counts ([`sample`] chooses); ignored unbounded.
    pub sample: Sample,
}

impl Search {
    /// The documents this search ranks and counts: its [`Sample`] when bounded, every document
    /// otherwise.
    fn effective_sample(&self) -> Sample {
        if self.bounded {
            self.sample
        } else {
            Sample::All
        }
    }
}

/// Which documents a bounded search ranks and counts: every one, or the documents of a fixed
/// pseudo-random part of the catalogue (the `sample` bucket of each document, a hash of its
/// asset id) when the query's words match so many that building the bitmap of every match
/// would dominate the search (a word in a tenth of a million documents: about 100 000 index
/// entries). A sample is searched through its own partial index, so its cost is its share.
/// The assets whose name starts with the query's words are candidates whatever the sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sample {
    /// Every document.
    #[default]
    All,
    /// Buckets 0 to 15: one document in 16.
    Sixteenth,
    /// Buckets 0 to 3: one document in 64.
    SixtyFourth,
    /// Bucket 0: one document in 256.
    TwoHundredFiftySixth,
}

impl Sample {
    /// The condition on document `d` (a constant in the statement's text, so that the planner
    /// sees the partial index it matches even in a cached generic plan).
    fn condition(self) -> &'static str {
        match self {
            Sample::All => "true",
            Sample::Sixteenth => "d.sample < 16",
            Sample::SixtyFourth => "d.sample < 4",
            Sample::TwoHundredFiftySixth => "d.sample = 0",
        }
    }

    /// How many documents of the catalogue one document of the sample stands for.
    pub fn scale(self) -> i64 {
        match self {
            Sample::All => 1,
            Sample::Sixteenth => 16,
            Sample::SixtyFourth => 64,
            Sample::TwoHundredFiftySixth => 256,
        }
    }
}

/// The source beside a document (`s`, from the `data_sources` read model), whose owner and tags
/// the asset inherits where it has none of its own.
const WITH_SOURCE: &str = "LEFT JOIN rm_data_sources.data_sources s
    ON s.tenant_id = d.tenant_id AND s.id = d.source_id";

/// The effective owner's name of document `d` beside its source `s` (the same rule as
/// `Asset.owner`; a source owner recorded before owners were typed is a plain string).
const EFFECTIVE_OWNER: &str = "COALESCE(d.owner, s.config->'owner'->>'name', s.config->>'owner')";

/// The effective tags (a JSON array) of document `d` beside its source `s`: its own unless it
/// has none (as `Asset.tags`).
const EFFECTIVE_TAGS: &str =
    "CASE WHEN jsonb_typeof(d.tags) = 'array' AND jsonb_array_length(d.tags) > 0 THEN d.tags
    WHEN jsonb_typeof(s.config->'tags') = 'array' THEN s.config->'tags' ELSE '[]'::jsonb END";

/// Whether the search filters by the effective owner or tags, and so needs [`WITH_SOURCE`].
fn needs_source(search: &Search) -> bool {
    !search.filters.tags.is_empty() || !search.filters.owners.is_empty()
}

/// The WHERE clause shared by hits and facets: `$1` tenant, `$2` tsquery, `$3`..`$11` the
/// filters, `$12` the scope, within the search's [`Sample`] when bounded. Its text depends only
/// on which optional parts are present, never on their values. Owner and tag filters read the
/// source `s` ([`WITH_SOURCE`]).
fn matching(search: &Search) -> String {
    matching_in(search, search.effective_sample())
}

/// [`matching`] within `sample`.
fn matching_in(search: &Search, sample: Sample) -> String {
    let tags = if search.filters.tags.is_empty() {
        "cardinality($8::text[]) = 0".to_owned()
    } else {
        format!("({EFFECTIVE_TAGS}) ?| $8")
    };
    let owners = if search.filters.owners.is_empty() {
        "cardinality($9::text[]) = 0".to_owned()
    } else {
        format!("{EFFECTIVE_OWNER} = ANY($9)")
    };
    let frameworks = if search.filters.frameworks.is_empty() {
        "true".to_owned()
    } else {
        "EXISTS (SELECT 1 FROM rm_compliance.violations v
                 WHERE v.tenant_id = d.tenant_id AND v.asset_id = d.id AND v.status = 'open'
                   AND v.framework = ANY($10))"
            .to_owned()
    };
    format!(
        "d.tenant_id = $1
         AND ($2::text IS NULL OR d.document @@ to_tsquery('simple', $2))
         AND ($3 OR NOT d.removed)
         AND (cardinality($4::uuid[]) = 0 OR d.source_id = ANY($4))
         AND (cardinality($5::text[]) = 0 OR d.kind = ANY($5))
         AND (cardinality($6::text[]) = 0 OR d.labels && $6)
         AND (cardinality($7::text[]) = 0 OR d.sensitivities && $7)
         AND {tags}
         AND {owners}
         AND (cardinality($10::text[]) = 0 OR {frameworks})
         AND (cardinality($11::text[]) = 0 OR d.terms && $11)
         AND {visible}
         AND {sample}",
        visible = when_scoped(12, search.scope.as_ref(), || asset_visible("d", 12)),
        sample = sample.condition(),
    )
}

macro_rules! bind_matching {
    ($query:expr, $tenant:expr, $search:expr) => {
        $query
            .bind($tenant)
            .bind($search.tsquery.as_deref())
            .bind($search.filters.include_removed)
            .bind(&$search.filters.sources)
            .bind(&$search.filters.kinds)
            .bind(&$search.filters.labels)
            .bind(&$search.filters.sensitivities)
            .bind(&$search.filters.tags)
            .bind(&$search.filters.owners)
            .bind(&$search.filters.frameworks)
            .bind(&$search.filters.terms)
            .bind($search.scope.as_ref())
    };
}

/// Chooses the [`Sample`] a bounded search with words ranks and counts, from its matches (under
/// all its filters and scope) among the documents of bucket 0 (at most [`SAMPLE_256_AT`] read)
/// and, when there are at least [`SAMPLE_16_PROBE_AT`], of buckets 0 to 3 (at most
/// [`SAMPLE_64_AT`]) and then 0 to 15 (at most [`SAMPLE_16_AT`]): the smallest sample that
/// holds that many, else every document (the bound of [`MAX_RANKED`] applies as before). Each
/// count reads only its sample's index.
pub async fn sample(
    pool: &sqlx::PgPool,
    tenant: &str,
    search: &Search,
) -> Result<Sample, sqlx::Error> {
    if !search.bounded || search.tsquery.is_none() {
        return Ok(Sample::All);
    }
    let in_256 = matches_in(
        pool,
        tenant,
        search,
        Sample::TwoHundredFiftySixth,
        SAMPLE_256_AT,
    )
    .await?;
    if in_256 >= SAMPLE_256_AT {
        return Ok(Sample::TwoHundredFiftySixth);
    }
    if in_256 < SAMPLE_16_PROBE_AT {
        return Ok(Sample::All);
    }
    let in_64 = matches_in(pool, tenant, search, Sample::SixtyFourth, SAMPLE_64_AT).await?;
    if in_64 >= SAMPLE_64_AT {
        return Ok(Sample::SixtyFourth);
    }
    let in_16 = matches_in(pool, tenant, search, Sample::Sixteenth, SAMPLE_16_AT).await?;
    Ok(if in_16 >= SAMPLE_16_AT {
        Sample::Sixteenth
    } else {
        Sample::All
    })
}

/// The search's matches within `sample`, counting at most `limit`.
async fn matches_in(
    pool: &sqlx::PgPool,
    tenant: &str,
    search: &Search,
    sample: Sample,
    limit: i64,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM rm_catalog.search_documents d {source}
                               WHERE {matching} LIMIT {limit}) x",
        source = if needs_source(search) {
            WITH_SOURCE
        } else {
            ""
        },
        matching = matching_in(search, sample),
    );
    let (found,): (i64,) = bind_matching!(sqlx::query_as(&sql), tenant, search)
        .fetch_one(pool)
        .await?;
    Ok(found)
}

/// One hit: the document's parts (for highlights) and its score.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HitRow {
    pub id: uuid::Uuid,
    pub score: f32,
    pub name: String,
    pub path: String,
    pub owner: Option<String>,
    pub tags: Value,
    pub description: Option<String>,
    pub columns: Vec<String>,
    pub labels: Vec<String>,
    pub terms: Vec<String>,
}

/// A page of hits, best first (ties by id), after `after` (score and id of the last hit of the
/// previous page).
///
/// Bounded, a query is ranked among its first [`MAX_RANKED`] matches in index order and up to
/// as many matches whose name starts with the query's words (so the asset named by the query is
/// always a candidate); a later page is positioned within the same candidates. The empty query
/// (every asset, score 0) is read in id order through the primary key.
pub async fn hits(
    pool: &sqlx::PgPool,
    tenant: &str,
    search: &Search,
    after: Option<(f32, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<HitRow>, sqlx::Error> {
    // Name weight first (ts_rank's default weights, length-normalised so a short name that is the
    // query beats a long document that mentions it), then a bonus for a name that is exactly
    // the query.
    let score = match (search.tsquery.is_some(), search.bounded) {
        (true, _) => {
            "(ts_rank(d.document, to_tsquery('simple', $2), 1)
              + CASE WHEN d.name_key = $13 THEN 1 ELSE 0 END)::real"
        }
        (false, false) => "(CASE WHEN $13 = d.name_key THEN 1 ELSE 0 END)::real",
        // Every asset matches and none is named by no words: all score 0.
        (false, true) => "(CASE WHEN $13 IS NULL THEN 1 ELSE 0 END)::real",
    };
    // The named candidates are candidates whatever the sample.
    let select = |from: &str, sample: Sample| {
        format!(
            "SELECT d.id, {score} AS score, d.name, d.path, d.owner, d.tags, d.description,
                    d.columns, d.labels, d.terms
             FROM {from} {source}
             WHERE {matching}",
            matching = matching_in(search, sample),
            source = if needs_source(search) {
                WITH_SOURCE
            } else {
                ""
            },
        )
    };
    let documents = select("rm_catalog.search_documents d", search.effective_sample());
    let sql = match (search.bounded, search.tsquery.is_some()) {
        // The names starting with the query's words are found through their own index first
        // (materialized, and each looked up by its key, so that the planner cannot turn them into
        // a filter over every match). The bounds are constants in the text, so that a cached
        // statement's generic plan still knows them.
        (true, true) => format!(
            "WITH named AS MATERIALIZED (
                     SELECT n.id FROM rm_catalog.search_documents n
                     WHERE n.tenant_id = $1 AND n.name_key COLLATE \"C\" >= $13
                       AND n.name_key COLLATE \"C\" < $13 || chr(1114111)
                     LIMIT {MAX_NAMED})
                 SELECT * FROM (
                     ({documents} AND d.id NOT IN (SELECT id FROM named) LIMIT {MAX_RANKED})
                     UNION ALL
                     (SELECT x.* FROM named CROSS JOIN LATERAL ({named}) x)) h
                 WHERE ($14::real IS NULL OR h.score < $14 OR (h.score = $14 AND h.id > $15))
                 ORDER BY h.score DESC, h.id
                 LIMIT $16",
            named = select("rm_catalog.search_documents d", Sample::All).replacen(
                "WHERE ",
                "WHERE d.id = named.id AND ",
                1
            ),
        ),
        (true, false) => format!(
            "{documents} AND ($14::real IS NULL OR $14 > 0 OR d.id > $15)
                 ORDER BY d.id LIMIT $16"
        ),
        (false, _) => format!(
            "SELECT * FROM ({documents}) h
                 WHERE ($14::real IS NULL OR h.score < $14 OR (h.score = $14 AND h.id > $15))
                 ORDER BY h.score DESC, h.id
                 LIMIT $16"
        ),
    };
    let query = bind_matching!(sqlx::query_as(&sql), tenant, search)
        .bind(&search.name_key)
        .bind(after.map(|(s, _)| s))
        .bind(after.map(|(_, id)| id))
        .bind(limit);
    query.fetch_all(pool).await
}

/// Counts of the matching documents per facet value, and the number of matches.
#[derive(Debug, Clone)]
pub struct Facets {
    /// Matching documents when exact; otherwise the estimate from a [`Sample`] when it is at
    /// most [`MAX_COUNTED`], else [`MAX_COUNTED`] + 1 (read: more than [`MAX_COUNTED`]).
    pub total: i64,
    /// Whether every match was counted: false when a bounded search matched more than
    /// [`MAX_COUNTED`] documents, and the counts are over the first [`MAX_COUNTED`] + 1 of them
    /// in index order, or when it was ranked and counted over a [`Sample`] (the counts are then
    /// the sample's: proportions, not totals).
    pub exact: bool,
    /// The number of matches: `total` when exact; estimated from a [`Sample`] whose matches
    /// were all counted (their number times [`Sample::scale`]); `None` when not known.
    pub estimated_total: Option<i64>,
    /// Facet name (source, kind, label, sensitivity, framework, tag, owner, term) to its values
    /// with their counts, most frequent first (ties by value), at most [`FACET_VALUES`].
    pub values: BTreeMap<String, Vec<(String, i64)>>,
}

/// The facet names, in the order they are shown.
pub const FACETS: [&str; 8] = [
    "source",
    "kind",
    "label",
    "sensitivity",
    "framework",
    "tag",
    "owner",
    "term",
];

/// Facet counts over every document the search matches (under all its filters), or bounded over
/// the first [`MAX_COUNTED`] + 1. Tags and owners are the effective ones (inherited from the
/// source where the asset has none).
pub async fn facets(
    pool: &sqlx::PgPool,
    tenant: &str,
    search: &Search,
) -> Result<Facets, sqlx::Error> {
    let sql = format!(
        "WITH m AS MATERIALIZED (
             SELECT d.id, d.source_id, d.kind, d.labels, d.sensitivities, {EFFECTIVE_TAGS} AS tags,
                    {EFFECTIVE_OWNER} AS owner, d.terms
             FROM rm_catalog.search_documents d {WITH_SOURCE} WHERE {matching} {limit})
         SELECT 'total' AS facet, '' AS value, count(*) AS n FROM m
         UNION ALL SELECT 'source', source_id::text, count(*) FROM m GROUP BY source_id
         UNION ALL SELECT 'kind', kind, count(*) FROM m GROUP BY kind
         UNION ALL SELECT 'label', v, count(*) FROM m, unnest(m.labels) v GROUP BY v
         UNION ALL SELECT 'sensitivity', v, count(*) FROM m, unnest(m.sensitivities) v GROUP BY v
         UNION ALL SELECT 'tag', v, count(*) FROM m,
             jsonb_array_elements_text(CASE WHEN jsonb_typeof(m.tags) = 'array' THEN m.tags ELSE '[]' END) v
             GROUP BY v
         UNION ALL SELECT 'owner', owner, count(*) FROM m WHERE owner IS NOT NULL GROUP BY owner
         UNION ALL SELECT 'term', v, count(*) FROM m, unnest(m.terms) v GROUP BY v
         UNION ALL SELECT 'framework', v.framework, count(DISTINCT v.asset_id)
             FROM rm_compliance.violations v JOIN m ON m.id = v.asset_id
             WHERE v.tenant_id = $1 AND v.status = 'open' GROUP BY v.framework",
        matching = matching(search),
        limit = if search.bounded {
            format!("LIMIT {}", MAX_COUNTED + 1)
        } else {
            String::new()
        },
    );
    let rows: Vec<(String, String, i64)> = bind_matching!(sqlx::query_as(&sql), tenant, search)
        .fetch_all(pool)
        .await?;
    let mut facets = Facets::default();
    for (facet, value, n) in rows {
        if facet == "total" {
            facets.total = n;
        } else {
            facets.values.entry(facet).or_default().push((value, n));
        }
    }
    for values in facets.values.values_mut() {
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values.truncate(FACET_VALUES);
    }
    let sampled = search.effective_sample() != Sample::All;
    facets.exact = !search.bounded || (!sampled && facets.total <= MAX_COUNTED);
    facets.estimated_total = if facets.exact {
        Some(facets.total)
    } else if sampled && facets.total <= MAX_COUNTED {
        // Every match of the sample was counted: it stands for `scale` times as many.
        Some(facets.total * search.sample.scale())
    } else {
        None
    };
    if sampled {
        // The estimate, or "more than MAX_COUNTED" above it (as for any inexact count).
        facets.total = facets
            .estimated_total
            .filter(|n| *n <= MAX_COUNTED)
            .unwrap_or(MAX_COUNTED + 1);
    }
    Ok(facets)
}

impl Default for Facets {
    /// No match: nothing counted, exactly.
    fn default() -> Self {
        Facets {
            total: 0,
            exact: true,
            estimated_total: Some(0),
            values: BTreeMap::new(),
        }
    }
}

/// One piece of a highlighted field: matched pieces are the query's words (or corrections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    pub matched: bool,
}

/// The longest field text shown in a highlight, in characters: the rest is cut.
const HIGHLIGHT_CHARS: usize = 200;

/// `text` cut into fragments, the words that match `expanded` marked; `None` when none matches.
pub fn highlight(text: &str, expanded: &[Expanded]) -> Option<Vec<Fragment>> {
    let cut: String = text.chars().take(HIGHLIGHT_CHARS).collect();
    let exact: HashSet<&str> = expanded
        .iter()
        .flat_map(|e| e.corrections.iter().map(String::as_str))
        .collect();
    let prefixes: Vec<String> = expanded.iter().flat_map(Expanded::prefixes).collect();
    let matches = |word: &str| {
        let word = word.to_lowercase();
        prefixes.iter().any(|p| {
            if p.chars().count() < MIN_PREFIX_CHARS {
                word == *p
            } else {
                word.starts_with(p.as_str())
            }
        }) || exact.contains(word.as_str())
    };
    let mut fragments: Vec<Fragment> = Vec::new();
    let mut push = |piece: &str, matched: bool| match fragments.last_mut() {
        Some(last) if last.matched == matched => last.text.push_str(piece),
        _ => fragments.push(Fragment {
            text: piece.to_owned(),
            matched,
        }),
    };
    let mut at = 0;
    let mut any = false;
    for (start, end) in word_spans(&cut) {
        if start > at {
            push(&cut[at..start], false);
        }
        let matched = matches(&cut[start..end]);
        any |= matched;
        push(&cut[start..end], matched);
        at = end;
    }
    if at < cut.len() {
        push(&cut[at..], false);
    }
    any.then_some(fragments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(term: &str) -> Expanded {
        Expanded {
            term: term.into(),
            ..Expanded::default()
        }
    }

    #[test]
    fn query_words_are_letters_and_digits_only_and_bounded() {
        assert_eq!(terms("Customer_Orders"), ["customer", "orders"]);
        assert_eq!(terms("shipmentManifest v2"), ["shipment", "manifest", "v2"]);
        assert!(terms("").is_empty());
        assert!(terms("&|!():*'\"\\ <-> ").is_empty());
        assert_eq!(terms("a:* & !b | 'c'"), ["a", "b", "c"]);
        let long = "x".repeat(10_000);
        assert_eq!(terms(&long)[0].chars().count(), MAX_TERM_CHARS);
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&many).len(), MAX_TERMS);
        assert_eq!(terms("Über straße"), ["über", "straße"]);
    }

    #[test]
    fn the_tsquery_holds_only_our_operators() {
        let expanded = vec![
            plain("custmer"),
            Expanded {
                term: "ordrs".into(),
                corrections: vec!["orders".into(), "order".into()],
                ..Expanded::default()
            },
        ];
        assert_eq!(
            tsquery(&expanded).unwrap(),
            "(custmer:*) & (ordrs:* | ordr:* | orders | order)"
        );
        let plural = |t: &str| plain(t).prefixes();
        assert_eq!(plural("categories"), ["categories", "category"]);
        assert_eq!(plural("boxes"), ["boxes", "box"]);
        assert_eq!(plural("manifests"), ["manifests", "manifest"]);
        assert_eq!(plural("address"), ["address"]);
        assert_eq!(plural("its"), ["its"]);
        assert_eq!(tsquery(&[]), None);
        // Prefixes the lexicon expanded are its words (each once); the others stay prefixes.
        let expanded = Expanded {
            term: "manifests".into(),
            corrections: Vec::new(),
            expansions: vec![
                Some(vec!["manifests".into()]),
                Some(vec!["manifest".into(), "manifests".into()]),
            ],
        };
        assert_eq!(
            tsquery(&[expanded, plain("ab")]).unwrap(),
            "(manifests | manifest) & (ab)"
        );
    }

    #[test]
    fn highlights_mark_the_matching_words() {
        let fragments = highlight("billing.customer_orders", &[plain("custom")]).unwrap();
        let texts: Vec<(&str, bool)> = fragments
            .iter()
            .map(|f| (f.text.as_str(), f.matched))
            .collect();
        assert_eq!(
            texts,
            [("billing.", false), ("customer", true), ("_orders", false)]
        );
        assert!(highlight("billing.invoices", &[plain("custom")]).is_none());
        // A word of one or two characters is matched whole.
        assert!(highlight("identity_card", &[plain("id")]).is_none());
        assert!(highlight("card_id", &[plain("id")]).is_some());
    }
}
