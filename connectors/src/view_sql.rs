//! Lineage from view definitions (and, table level, from SQL routine bodies:
//! [`routine_lineage`]), for every SQL engine: the view's SQL (`pg_get_viewdef`,
//! `information_schema.VIEWS`) is parsed with `sqlparser` in the engine's dialect and every
//! relation it reads becomes a [`LineageEdge`] of kind [`LineageKind::View`] into the view.
//!
//! - Table level: every table or view named in a `FROM`/`JOIN` anywhere in the statement —
//!   nested subqueries, `WHERE … IN (SELECT …)`, CTE bodies — except the names of the CTEs
//!   themselves. Names are resolved against the catalog: qualified ones as written, unqualified
//!   ones in the view's schema, then the engine's fallback schema (`public` for PostgreSQL; MySQL
//!   has none: its "schema" is the database). Names the catalog does not know (table functions,
//!   `pg_catalog` relations) are not lineage and are skipped.
//! - Column level, for the view's top-level `SELECT`: an output column whose expression only
//!   reads columns of base tables in its `FROM` (`o.total AS order_total`,
//!   `concat(c.first_name, ' ', c.last_name) AS customer_name`) gets one edge per source table,
//!   from the columns it reads to the output column. Outputs that read nothing (constants,
//!   `count(*)`), read a subquery, or read a column that cannot be pinned to one table get no
//!   column edge; a table with no column edge at all still gets a table-level edge, so no source
//!   is ever lost.
//!
//! Because PostgreSQL discovery pins `search_path` to `pg_catalog`, the definitions it reads name
//! every user relation with its schema; the unqualified-name rules are for the rest.
//!
//! Identifiers are compared with the catalog's names as written, except where the engine folds
//! unquoted ones ([`UnquotedCase::Upper`]: Snowflake stores `orders` as `ORDERS`, so `o.total`
//! in a view reads the column `TOTAL`). A definition may also be the whole `CREATE VIEW …`
//! statement (Snowflake's `INFORMATION_SCHEMA.VIEWS`); its query is what is read.

use domain::discovery::{AssetPath, LineageEdge, LineageKind};
use sqlparser::ast::{
    Expr, Ident, ObjectName, Query, Select, SelectItem, SetExpr, Statement, TableFactor,
    TableWithJoins, Visit, Visitor,
};
use sqlparser::dialect::Dialect;
use sqlparser::parser::Parser;
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

/// A relation the lineage parser can resolve names to.
#[derive(Debug, Clone)]
struct Known {
    path: AssetPath,
    /// The relation's columns, when discovery read them (relations outside the scan's scope are
    /// known by name only).
    columns: Option<Vec<String>>,
}

/// How an unquoted identifier in view SQL compares with the catalog's names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum UnquotedCase {
    /// As written: PostgreSQL's `pg_get_viewdef` already writes canonical names, and MySQL
    /// keeps the case of what was created.
    #[default]
    AsWritten,
    /// Upper-cased, as Snowflake stores unquoted identifiers; quoted ones keep their case.
    Upper,
}

impl UnquotedCase {
    fn name(self, ident: &Ident) -> String {
        match (self, ident.quote_style) {
            (UnquotedCase::Upper, None) => ident.value.to_uppercase(),
            _ => ident.value.clone(),
        }
    }
}

/// Every relation of the database by `(schema, name)`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RelationIndex {
    database: String,
    /// Where unqualified names are looked up after the view's own schema.
    fallback_schema: Option<String>,
    case: UnquotedCase,
    relations: HashMap<(String, String), Known>,
}

impl RelationIndex {
    /// An index for `database`; `fallback_schema` is searched for unqualified names after the
    /// view's schema (`Some("public")` for PostgreSQL, `None` for MySQL).
    pub(crate) fn new(database: impl Into<String>, fallback_schema: Option<&str>) -> Self {
        Self {
            database: database.into(),
            fallback_schema: fallback_schema.map(str::to_owned),
            case: UnquotedCase::AsWritten,
            relations: HashMap::new(),
        }
    }

    /// The same index, comparing unquoted identifiers the way `case` says.
    pub(crate) fn with_unquoted_case(mut self, case: UnquotedCase) -> Self {
        self.case = case;
        self
    }

    pub(crate) fn insert(
        &mut self,
        schema: &str,
        name: &str,
        path: AssetPath,
        columns: Option<Vec<String>>,
    ) {
        self.relations.insert(
            (schema.to_owned(), name.to_owned()),
            Known { path, columns },
        );
    }

    fn get(&self, schema: &str, name: &str) -> Option<&Known> {
        self.relations.get(&(schema.to_owned(), name.to_owned()))
    }

    /// The relation `name` refers to from a view in `view_schema`; `None` for a CTE name or a
    /// name the catalog does not know.
    fn resolve(
        &self,
        name: &ObjectName,
        view_schema: &str,
        ctes: &HashSet<String>,
    ) -> Option<&Known> {
        let parts: Option<Vec<String>> = name
            .0
            .iter()
            .map(|part| part.as_ident().map(|ident| self.case.name(ident)))
            .collect();
        match parts?.as_slice() {
            [table] if ctes.contains(table) => None,
            [table] => self.get(view_schema, table).or_else(|| {
                self.fallback_schema
                    .as_deref()
                    .and_then(|schema| self.get(schema, table))
            }),
            [schema, table] => self.get(schema, table),
            [database, schema, table] if *database == self.database => self.get(schema, table),
            _ => None,
        }
    }
}

/// Why a view definition yielded no lineage at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ViewSqlError {
    #[error("view definition does not parse: {0}")]
    Parse(String),
    #[error("view definition is not a single query")]
    NotAQuery,
}

/// The lineage edges of the view at `view` (in schema `view_schema`, with output columns
/// `view_columns` in order) whose definition is `sql`, parsed in `dialect`.
pub(crate) fn view_lineage(
    view: &AssetPath,
    view_schema: &str,
    view_columns: &[String],
    sql: &str,
    index: &RelationIndex,
    dialect: &dyn Dialect,
) -> Result<Vec<LineageEdge>, ViewSqlError> {
    let statements =
        Parser::parse_sql(dialect, sql).map_err(|error| ViewSqlError::Parse(error.to_string()))?;
    let query = match statements.as_slice() {
        [Statement::Query(query)] => query,
        [Statement::CreateView(create)] => &create.query,
        _ => return Err(ViewSqlError::NotAQuery),
    };

    let mut names = RelationNames {
        case: index.case,
        ..RelationNames::default()
    };
    let _ = query.visit(&mut names);
    let mut sources: Vec<&Known> = Vec::new();
    for name in &names.relations {
        if let Some(known) = index.resolve(name, view_schema, &names.ctes) {
            if !sources.iter().any(|s| s.path == known.path) {
                sources.push(known);
            }
        }
    }

    let mut edges = column_edges(view, view_schema, view_columns, query, index, &names.ctes);
    for source in sources {
        if !edges.iter().any(|edge| edge.from == source.path) {
            edges.push(LineageEdge::table_level(
                source.path.clone(),
                view.clone(),
                LineageKind::View,
            ));
        }
    }
    Ok(edges)
}

/// The table-level edges into the SQL-language routine at `routine` (in schema `schema`) from
/// every known relation its body names in a `FROM`/`JOIN` (also of `UPDATE`/`DELETE`), over all
/// its statements, as kind [`LineageKind::Routine`]. A body that does not parse is an error the
/// caller treats as "no lineage".
pub(crate) fn routine_lineage(
    routine: &AssetPath,
    schema: &str,
    body: &str,
    index: &RelationIndex,
    dialect: &dyn Dialect,
) -> Result<Vec<LineageEdge>, ViewSqlError> {
    let statements =
        Parser::parse_sql(dialect, body).map_err(|error| ViewSqlError::Parse(error.to_string()))?;
    let mut names = RelationNames {
        case: index.case,
        ..RelationNames::default()
    };
    for statement in &statements {
        let _ = statement.visit(&mut names);
    }
    let mut edges: Vec<LineageEdge> = Vec::new();
    for name in &names.relations {
        if let Some(known) = index.resolve(name, schema, &names.ctes) {
            let edge =
                LineageEdge::table_level(known.path.clone(), routine.clone(), LineageKind::Routine);
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
    }
    Ok(edges)
}

/// Every relation name in a `FROM`/`JOIN` and every CTE name, anywhere in the statement.
#[derive(Default)]
struct RelationNames {
    relations: Vec<ObjectName>,
    ctes: HashSet<String>,
    case: UnquotedCase,
}

impl Visitor for RelationNames {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(self.case.name(&cte.alias.name));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        // `args: Some(..)` is a set-returning function call (`generate_series(1, 3)`), not a
        // relation.
        if let TableFactor::Table {
            name, args: None, ..
        } = factor
        {
            self.relations.push(name.clone());
        }
        ControlFlow::Continue(())
    }
}

/// The names the top-level `FROM` binds: alias (or bare table name) → the base relation, or
/// `None` for something opaque (a subquery, a CTE, a function, a relation outside the catalog,
/// a relation whose columns an alias renames).
type Bindings<'a> = Vec<(String, Option<&'a Known>)>;

fn bind<'a>(
    factor: &TableFactor,
    view_schema: &str,
    index: &'a RelationIndex,
    ctes: &HashSet<String>,
    bindings: &mut Bindings<'a>,
) {
    match factor {
        TableFactor::Table {
            name, alias, args, ..
        } => {
            let known = match (args, alias) {
                (None, Some(alias)) if !alias.columns.is_empty() => None,
                (None, _) => index.resolve(name, view_schema, ctes),
                (Some(_), _) => None,
            };
            let binding = match alias {
                Some(alias) => index.case.name(&alias.name),
                None => match name.0.last().and_then(|part| part.as_ident()) {
                    Some(ident) => index.case.name(ident),
                    None => return,
                },
            };
            bindings.push((binding, known));
        }
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => bind_all(table_with_joins, view_schema, index, ctes, bindings),
        TableFactor::Derived {
            alias: Some(alias), ..
        } => bindings.push((index.case.name(&alias.name), None)),
        // Anything else in a FROM (functions, UNNEST, …) may provide unqualified columns too, so
        // it makes every unqualified name ambiguous.
        _ => bindings.push((String::new(), None)),
    }
}

fn bind_all<'a>(
    from: &TableWithJoins,
    view_schema: &str,
    index: &'a RelationIndex,
    ctes: &HashSet<String>,
    bindings: &mut Bindings<'a>,
) {
    bind(&from.relation, view_schema, index, ctes, bindings);
    for join in &from.joins {
        bind(&join.relation, view_schema, index, ctes, bindings);
    }
}

fn column_edges(
    view: &AssetPath,
    view_schema: &str,
    view_columns: &[String],
    query: &Query,
    index: &RelationIndex,
    ctes: &HashSet<String>,
) -> Vec<LineageEdge> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        // UNION & co.: an output column mixes the branches; table level only.
        return Vec::new();
    };
    let mut bindings = Bindings::new();
    for from in &select.from {
        bind_all(from, view_schema, index, ctes, &mut bindings);
    }
    let mut edges: Vec<LineageEdge> = Vec::new();
    for (output, expr) in outputs(select, view_columns, index.case) {
        let Some(sources) = column_sources(expr, &bindings, index.case) else {
            continue;
        };
        // One edge per source table, so that `from_columns` (all feeding the one output) stay
        // within one asset.
        let mut by_table: Vec<(&AssetPath, Vec<String>)> = Vec::new();
        for (path, column) in sources {
            match by_table.iter_mut().find(|(p, _)| *p == path) {
                Some((_, columns)) if columns.contains(&column) => {}
                Some((_, columns)) => columns.push(column),
                None => by_table.push((path, vec![column])),
            }
        }
        for (path, columns) in by_table {
            edges.push(LineageEdge {
                from: path.clone(),
                from_columns: columns,
                to: view.clone(),
                to_columns: vec![output.clone()],
                kind: LineageKind::View,
            });
        }
    }
    edges
}

/// `(output column name, expression)` of each projected item. Positions are matched to the
/// catalog's view columns when the counts agree (the catalog's names are the truth); otherwise
/// the alias or the column's own name is used.
fn outputs<'s>(
    select: &'s Select,
    view_columns: &[String],
    case: UnquotedCase,
) -> Vec<(String, &'s Expr)> {
    let positional = select.projection.len() == view_columns.len()
        && select.projection.iter().all(|item| {
            matches!(
                item,
                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
            )
        });
    let mut outputs = Vec::new();
    for (position, item) in select.projection.iter().enumerate() {
        let (expr, name) = match item {
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(case.name(alias))),
            SelectItem::UnnamedExpr(expr) => {
                let name = match expr {
                    Expr::Identifier(ident) => Some(case.name(ident)),
                    Expr::CompoundIdentifier(parts) => parts.last().map(|i| case.name(i)),
                    _ => None,
                };
                (expr, name)
            }
            _ => continue,
        };
        let name = if positional {
            Some(view_columns[position].clone())
        } else {
            name
        };
        if let Some(name) = name {
            outputs.push((name, expr));
        }
    }
    outputs
}

/// The base-table columns `expr` reads, or `None` when it reads nothing or anything that cannot
/// be pinned to one column of one base table.
fn column_sources<'k>(
    expr: &Expr,
    bindings: &Bindings<'k>,
    case: UnquotedCase,
) -> Option<Vec<(&'k AssetPath, String)>> {
    let mut refs = ColumnRefs {
        case,
        ..ColumnRefs::default()
    };
    let _ = expr.visit(&mut refs);
    if refs.opaque || refs.refs.is_empty() {
        return None;
    }
    refs.refs
        .into_iter()
        .map(|(qualifier, column)| {
            let known = match qualifier {
                Some(qualifier) => bindings
                    .iter()
                    .find(|(name, _)| *name == qualifier)
                    .and_then(|(_, known)| *known)?,
                None => unqualified_owner(&column, bindings)?,
            };
            if let Some(columns) = &known.columns {
                if !columns.contains(&column) {
                    return None;
                }
            }
            Some((&known.path, column))
        })
        .collect()
}

/// The one relation in the `FROM` an unqualified `column` belongs to.
fn unqualified_owner<'k>(column: &str, bindings: &Bindings<'k>) -> Option<&'k Known> {
    if let [(_, only)] = bindings.as_slice() {
        return *only;
    }
    let mut owner = None;
    for (_, known) in bindings {
        let columns = known.as_ref()?.columns.as_ref()?;
        if columns.iter().any(|c| c == column) {
            if owner.is_some() {
                return None;
            }
            owner = *known;
        }
    }
    owner
}

/// Column references (`a`, `t.a`, `s.t.a`) in one expression; `opaque` when it holds a subquery,
/// whose names live in another scope.
#[derive(Default)]
struct ColumnRefs {
    refs: Vec<(Option<String>, String)>,
    opaque: bool,
    case: UnquotedCase,
}

impl Visitor for ColumnRefs {
    type Break = ();

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
        self.opaque = true;
        ControlFlow::Break(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(ident) => self.refs.push((None, self.case.name(ident))),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let column = self.case.name(&parts[parts.len() - 1]);
                let qualifier = self.case.name(&parts[parts.len() - 2]);
                self.refs.push((Some(qualifier), column));
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> AssetPath {
        AssetPath::parse(p).unwrap()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn index() -> RelationIndex {
        let mut index = RelationIndex::new("shop", Some("public"));
        index.insert(
            "sales",
            "orders",
            path("shop.sales.orders"),
            Some(strings(&["id", "customer_id", "total"])),
        );
        index.insert(
            "sales",
            "customers",
            path("shop.sales.customers"),
            Some(strings(&["id", "first_name", "last_name", "email"])),
        );
        index.insert("public", "regions", path("shop.public.regions"), None);
        index
    }

    fn edge(from: &str, from_columns: &[&str], to_columns: &[&str]) -> LineageEdge {
        LineageEdge {
            from: path(from),
            from_columns: strings(from_columns),
            to: path("shop.sales.v"),
            to_columns: strings(to_columns),
            kind: LineageKind::View,
        }
    }

    fn lineage(sql: &str, columns: &[&str]) -> Vec<LineageEdge> {
        view_lineage(
            &path("shop.sales.v"),
            "sales",
            &strings(columns),
            sql,
            &index(),
            &sqlparser::dialect::PostgreSqlDialect {},
        )
        .unwrap()
    }

    #[test]
    fn simple_projection_maps_each_output_column() {
        let edges = lineage(
            "SELECT o.id AS order_id, total FROM sales.orders o",
            &["order_id", "total"],
        );
        assert_eq!(
            edges,
            vec![
                edge("shop.sales.orders", &["id"], &["order_id"]),
                edge("shop.sales.orders", &["total"], &["total"]),
            ]
        );
    }

    #[test]
    fn expressions_over_one_table_keep_their_columns_and_joins_resolve_by_alias() {
        let edges = lineage(
            " SELECT o.id AS order_id,\n    concat(c.first_name, ' '::text, c.last_name) AS customer_name,\n    \
             count(*) AS n\n   FROM sales.orders o\n     JOIN sales.customers c ON c.id = o.customer_id\n  \
             GROUP BY o.id, c.first_name, c.last_name;",
            &["order_id", "customer_name", "n"],
        );
        assert_eq!(
            edges,
            vec![
                edge("shop.sales.orders", &["id"], &["order_id"]),
                edge(
                    "shop.sales.customers",
                    &["first_name", "last_name"],
                    &["customer_name"]
                ),
            ]
        );
    }

    #[test]
    fn unqualified_names_resolve_in_the_view_schema_then_public_and_ctes_are_not_tables() {
        let edges = lineage(
            "WITH recent AS (SELECT * FROM orders WHERE total > 10) \
             SELECT r.id, g.name FROM recent r CROSS JOIN regions g \
             WHERE r.customer_id IN (SELECT id FROM customers)",
            &["id", "name"],
        );
        assert_eq!(
            edges,
            vec![
                edge("shop.public.regions", &["name"], &["name"]),
                LineageEdge::table_level(
                    path("shop.sales.orders"),
                    path("shop.sales.v"),
                    LineageKind::View
                ),
                LineageEdge::table_level(
                    path("shop.sales.customers"),
                    path("shop.sales.v"),
                    LineageKind::View
                ),
            ]
        );
    }

    #[test]
    fn ambiguous_or_subquery_outputs_fall_back_to_table_level() {
        let edges = lineage(
            "SELECT id, (SELECT max(total) FROM sales.orders) AS top, email \
             FROM sales.orders o JOIN sales.customers c ON c.id = o.customer_id",
            &["id", "top", "email"],
        );
        assert_eq!(
            edges,
            vec![
                edge("shop.sales.customers", &["email"], &["email"]),
                LineageEdge::table_level(
                    path("shop.sales.orders"),
                    path("shop.sales.v"),
                    LineageKind::View
                ),
            ]
        );
    }

    #[test]
    fn unions_functions_and_unknown_relations() {
        let edges = lineage(
            "SELECT id FROM sales.orders UNION ALL SELECT g FROM generate_series(1, 3) g \
             UNION ALL SELECT oid::int FROM pg_class",
            &["id"],
        );
        assert_eq!(
            edges,
            vec![LineageEdge::table_level(
                path("shop.sales.orders"),
                path("shop.sales.v"),
                LineageKind::View
            )]
        );
    }

    #[test]
    fn snowflake_create_view_text_with_unquoted_names_folds_to_upper_case() {
        let mut index = RelationIndex::new("SHOP", None).with_unquoted_case(UnquotedCase::Upper);
        index.insert(
            "SALES",
            "ORDERS",
            path("SHOP.SALES.ORDERS"),
            Some(strings(&["ID", "TOTAL"])),
        );
        index.insert(
            "SALES",
            "Mixed",
            path("SHOP.SALES.Mixed"),
            Some(strings(&["Code"])),
        );
        let sql = "create or replace view SHOP.SALES.V(ORDER_ID, CODE) as \
                   select o.id as order_id, m.\"Code\" from orders o join sales.\"Mixed\" m \
                   on m.\"Code\" = o.total;";
        let edges = view_lineage(
            &path("SHOP.SALES.V"),
            "SALES",
            &strings(&["ORDER_ID", "CODE"]),
            sql,
            &index,
            &sqlparser::dialect::SnowflakeDialect {},
        )
        .unwrap();
        let edge = |from: &str, from_columns: &[&str], to_columns: &[&str]| LineageEdge {
            from: path(from),
            from_columns: strings(from_columns),
            to: path("SHOP.SALES.V"),
            to_columns: strings(to_columns),
            kind: LineageKind::View,
        };
        assert_eq!(
            edges,
            vec![
                edge("SHOP.SALES.ORDERS", &["ID"], &["ORDER_ID"]),
                edge("SHOP.SALES.Mixed", &["Code"], &["CODE"]),
            ]
        );
        // Quoted names keep their case: `"orders"` is not `ORDERS`.
        let quoted = view_lineage(
            &path("SHOP.SALES.V"),
            "SALES",
            &strings(&["ID"]),
            "select id from \"orders\"",
            &index,
            &sqlparser::dialect::SnowflakeDialect {},
        )
        .unwrap();
        assert_eq!(quoted, Vec::new());
    }

    #[test]
    fn unparseable_sql_is_an_error() {
        let error = view_lineage(
            &path("shop.sales.v"),
            "sales",
            &[],
            "SELECT FROM WHERE (((",
            &index(),
            &sqlparser::dialect::PostgreSqlDialect {},
        )
        .unwrap_err();
        assert!(matches!(error, ViewSqlError::Parse(_)), "{error:?}");
    }

    #[test]
    fn a_sql_routine_body_is_lineage_from_every_relation_it_names() {
        let routine = path("shop.sales.\"refresh_totals(bigint)\"");
        let body = "UPDATE sales.orders o SET total = 0 FROM customers c WHERE c.id = o.customer_id AND c.id = $1;
                    SELECT count(*) FROM regions;
                    WITH recent AS (SELECT * FROM sales.orders) SELECT * FROM recent";
        let edges = routine_lineage(
            &routine,
            "sales",
            body,
            &index(),
            &sqlparser::dialect::PostgreSqlDialect {},
        )
        .unwrap();
        let from: Vec<String> = edges.iter().map(|e| e.from.to_string()).collect();
        assert_eq!(
            from,
            [
                "shop.sales.orders",
                "shop.sales.customers",
                "shop.public.regions"
            ]
        );
        assert!(edges
            .iter()
            .all(|e| e.to == routine && e.kind == LineageKind::Routine && !e.is_column_level()));
        // A body the parser cannot read is an error the caller turns into "no lineage".
        assert!(routine_lineage(
            &routine,
            "sales",
            "BEGIN ATOMIC; SELEKT",
            &index(),
            &sqlparser::dialect::PostgreSqlDialect {},
        )
        .is_err());
    }
}
