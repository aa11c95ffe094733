//! Scope patterns: syntax, matching within and across segments, excludes, pruning.

use super::*;
use crate::discovery::{AssetPath, AssetPathError};

fn path(raw: &str) -> AssetPath {
    AssetPath::parse(raw).unwrap()
}

fn pattern(raw: &str) -> ScopePattern {
    ScopePattern::parse(raw).unwrap()
}

fn scope(include: &[&str], exclude: &[&str]) -> ScanScope {
    ScanScope::parse(include, exclude).unwrap()
}

#[test]
fn a_single_star_matches_within_one_segment() {
    let p = pattern("public.*");
    assert!(p.matches(&path("public.customers")));
    assert!(p.matches(&path("public.orders")));
    assert!(!p.matches(&path("public")), "one segment must follow");
    assert!(
        !p.matches(&path("public.customers.email")),
        "not across segments"
    );
    assert!(
        !p.matches(&path("sales.public.customers")),
        "anchored at the start"
    );
    assert!(!p.matches(&path("private.customers")));

    let p = pattern("sales.public.cust*");
    assert!(p.matches(&path("sales.public.customers")));
    assert!(p.matches(&path("sales.public.cust")));
    assert!(!p.matches(&path("sales.public.orders")));
    let p = pattern("*.*_audit");
    assert!(p.matches(&path("hr.salary_audit")));
    assert!(!p.matches(&path("hr.salary_audit_v2")));
    let p = pattern("db.*a*b*");
    assert!(p.matches(&path("db.xaxbx")));
    assert!(p.matches(&path("db.ab")));
    assert!(!p.matches(&path("db.ba")));
}

#[test]
fn a_double_star_matches_across_segments() {
    let p = pattern("public.**");
    assert!(p.matches(&path("public")), "zero segments");
    assert!(p.matches(&path("public.customers")));
    assert!(p.matches(&path("public.customers.email")));
    assert!(!p.matches(&path("sales.public.customers")));

    let p = pattern("**.customers");
    assert!(p.matches(&path("customers")));
    assert!(p.matches(&path("sales.public.customers")));
    assert!(!p.matches(&path("sales.public.customers_v2")));

    let p = pattern("sales.**.orders");
    assert!(p.matches(&path("sales.orders")));
    assert!(p.matches(&path("sales.public.orders")));
    assert!(p.matches(&path("sales.a.b.c.orders")));
    assert!(!p.matches(&path("crm.public.orders")));

    assert!(pattern("**").matches(&path("anything.at.all")));
}

#[test]
fn quoted_segments_are_literal() {
    let p = pattern(r#"cache."session:*""#);
    assert!(p.matches(&path(r#"cache."session:*""#)));
    assert!(!p.matches(&path("cache.session:42")));
    assert_eq!(p.to_string(), r#"cache."session:*""#);
    let p = pattern(r#"db."my.table""#);
    assert!(p.matches(&AssetPath::new(["db", "my.table"]).unwrap()));
    assert!(!p.matches(&path("db.my.table")));
    // Matching is case-sensitive, as engines' quoted identifiers are.
    assert!(!pattern("db.Orders").matches(&path("db.orders")));
}

#[test]
fn patterns_are_stored_in_their_canonical_text() {
    for raw in ["public.*", "sales.**.orders", r#"db."a.b".*"#, r#""x*y""#] {
        let p = pattern(raw);
        assert_eq!(p.to_string(), raw);
        let stored = serde_json::to_value(&p).unwrap();
        assert_eq!(stored, serde_json::json!(raw));
        assert_eq!(serde_json::from_value::<ScopePattern>(stored).unwrap(), p);
    }
    assert_eq!(pattern("  public.* ").as_str(), "public.*");
    assert_eq!(pattern(r#""public".*"#).as_str(), "public.*");
}

#[test]
fn invalid_patterns_are_refused() {
    assert_eq!(ScopePattern::parse("").unwrap_err(), AssetPathError::Empty);
    // A NUL would reach the read models' JSONB with the scan's scope; names with control
    // characters are matched by their escaped form, as discovery records them.
    assert_eq!(
        ScopePattern::parse("shop.\"a\0b\"").unwrap_err(),
        AssetPathError::ControlCharacter { index: 1 }
    );
    assert_eq!(
        ScopePattern::parse("shop.e\nmail*").unwrap_err(),
        AssetPathError::ControlCharacter { index: 1 }
    );
    assert!(ScopePattern::parse("shop.\"e\\u{a}mail\"").is_ok());
    assert_eq!(
        ScopePattern::parse("a..b").unwrap_err(),
        AssetPathError::EmptySegment { index: 1 }
    );
    let error = ScanScope::parse(["ok.*"], ["bad."]).unwrap_err();
    assert_eq!(
        error,
        ScopeError::Pattern {
            list: "exclude",
            pattern: "bad.".into(),
            source: AssetPathError::EmptySegment { index: 1 }
        }
    );
    assert_eq!(
        error.to_string(),
        "exclude pattern \"bad.\": segment 1 of the path is empty"
    );
    assert!(ScanScope::parse(vec!["a.*"; 65], Vec::<&str>::new()).is_err());
    let deep = vec!["**"; 17].join(".");
    assert!(ScopePattern::parse(&deep).is_err());
}

#[test]
fn an_empty_include_list_means_everything() {
    let all = ScanScope::everything();
    assert!(all.is_everything());
    assert!(all.matches(&path("sales")));
    assert!(all.matches(&path("sales.public.orders")));
    let some = scope(&[], &["sales.hr.**"]);
    assert!(!some.is_everything());
    assert!(some.matches(&path("sales.public.orders")));
    assert!(!some.matches(&path("sales.hr.salaries")));
}

#[test]
fn excludes_win_over_includes() {
    let s = scope(
        &["sales.public.**", "sales.hr.salaries"],
        &["sales.public.tmp_*", "sales.hr.**"],
    );
    assert!(s.matches(&path("sales.public")));
    assert!(s.matches(&path("sales.public.orders")));
    assert!(!s.matches(&path("sales.public.tmp_import")));
    assert!(
        !s.matches(&path("sales.hr.salaries")),
        "excluded though included"
    );
    assert!(!s.matches(&path("crm.public.orders")), "not included");
}

#[test]
fn may_contain_prunes_containers_that_cannot_hold_anything_in_scope() {
    let s = scope(&["sales.public.*"], &["sales.public.tmp_*"]);
    assert!(s.may_contain(&path("sales")));
    assert!(s.may_contain(&path("sales.public")));
    assert!(!s.matches(&path("sales.public")));
    assert!(s.may_contain(&path("sales.public.orders")));
    assert!(!s.may_contain(&path("crm")));
    assert!(!s.may_contain(&path("sales.hr")));
    assert!(!s.may_contain(&path("sales.public.orders.id")));

    let s = scope(&["**.orders"], &["sales.hr.**"]);
    assert!(s.may_contain(&path("sales")));
    assert!(s.may_contain(&path("sales.public")));
    assert!(
        !s.may_contain(&path("sales.hr")),
        "the whole subtree is excluded"
    );
    assert!(!s.may_contain(&path("sales.hr.team")));
    assert!(ScanScope::everything().may_contain(&path("x")));
}
