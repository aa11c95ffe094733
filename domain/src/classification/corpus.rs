//! Labeled column corpora, independent of any evaluation set: the column lists of well-known
//! public sample databases and open-source application schemas (sample databases, ERP, CRM, CMS,
//! HR, health records) in several languages, each column labeled with the type it holds.
//!
//! They serve twice. The model ([`super::model`]) learns from their column names next to
//! `training.csv`; and `pursight bench classify` measures the engine on each corpus with a model
//! that learned from every source *except* that corpus ([`training_examples`] with `except`), so
//! the figure it reports is one for schemas the engine has not seen. The files live in
//! `corpora/<name>/columns.csv` (`table,column,data_type,kind,label,alternates`); `kind` names
//! the value generator the bench fills the column with; `corpora/LICENSES.md` says where each
//! list comes from. Only derived column lists are kept, none of the sources' code or data.

use super::types::ClassificationType;
use std::sync::LazyLock;

/// The corpora shipped in the repository, by name.
const SOURCES: &[(&str, &str)] = &[
    (
        "adventureworks",
        include_str!("corpora/adventureworks/columns.csv"),
    ),
    ("brp_nl", include_str!("corpora/brp_nl/columns.csv")),
    ("chinook", include_str!("corpora/chinook/columns.csv")),
    ("dolibarr", include_str!("corpora/dolibarr/columns.csv")),
    (
        "facturascripts_es",
        include_str!("corpora/facturascripts_es/columns.csv"),
    ),
    (
        "freetext_gen",
        include_str!("corpora/freetext_gen/columns.csv"),
    ),
    ("hr_samples", include_str!("corpora/hr_samples/columns.csv")),
    ("khentgg_de", include_str!("corpora/khentgg_de/columns.csv")),
    ("northwind", include_str!("corpora/northwind/columns.csv")),
    ("odoo", include_str!("corpora/odoo/columns.csv")),
    ("openmrs", include_str!("corpora/openmrs/columns.csv")),
    ("openxe_de", include_str!("corpora/openxe_de/columns.csv")),
    ("sakila", include_str!("corpora/sakila/columns.csv")),
    ("salud_mx", include_str!("corpora/salud_mx/columns.csv")),
    ("sap_hr", include_str!("corpora/sap_hr/columns.csv")),
    ("sinan_br", include_str!("corpora/sinan_br/columns.csv")),
    (
        "wordpress_drupal",
        include_str!("corpora/wordpress_drupal/columns.csv"),
    ),
];

/// One labeled column of a corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusColumn {
    pub table: String,
    pub column: String,
    /// The data type as the engine spells it (`character varying`, `integer`, …).
    pub data_type: String,
    /// The value generator that fills it in the bench (`email`, `postcode:de`, …).
    pub kind: String,
    /// The type it holds; `None` = not sensitive (`NONE`).
    pub label: Option<ClassificationType>,
    /// Other labels that count as right (e.g. `POSTAL_ADDRESS` for a city).
    pub alternates: Vec<ClassificationType>,
}

impl CorpusColumn {
    /// The label's wire name, `NONE` when not sensitive.
    pub fn label_name(&self) -> &'static str {
        self.label.map_or("NONE", ClassificationType::as_str)
    }
}

/// One corpus: a source's labeled columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    pub name: String,
    pub columns: Vec<CorpusColumn>,
}

/// A line of a corpus file that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("corpus {corpus}, line {line}: {problem}")]
pub struct CorpusError {
    pub corpus: String,
    pub line: usize,
    pub problem: String,
}

/// The engine's spelling of the short type names corpus files use.
fn engine_type(short: &str) -> Option<&'static str> {
    Some(match short {
        "int" => "integer",
        "smallint" => "smallint",
        "bigint" => "bigint",
        "varchar" => "character varying",
        "char" => "character",
        "text" => "text",
        "date" => "date",
        "time" => "time without time zone",
        "timestamp" => "timestamp without time zone",
        "numeric" => "numeric",
        "real" => "real",
        "double" => "double precision",
        "bool" => "boolean",
        "uuid" => "uuid",
        "bytea" => "bytea",
        _ => return None,
    })
}

fn parse_label(name: &str) -> Result<Option<ClassificationType>, String> {
    match name {
        "NONE" => Ok(None),
        other => ClassificationType::parse(other)
            .map(Some)
            .ok_or_else(|| format!("unknown label `{other}`")),
    }
}

/// Reads a corpus file: `table,column,data_type,kind,label,alternates` rows (alternates
/// `|`-separated); `#` comments, blank lines and the header are skipped. Every label must be a
/// built-in type or `NONE`, every column named once.
pub fn parse(name: &str, text: &str) -> Result<Corpus, CorpusError> {
    let mut columns: Vec<CorpusColumn> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("table,") {
            continue;
        }
        let fail = |problem: String| CorpusError {
            corpus: name.to_owned(),
            line: i + 1,
            problem,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [table, column, data_type, kind, label_name, rest @ ..] = fields.as_slice() else {
            return Err(fail(
                "expected table,column,data_type,kind,label,alternates".into(),
            ));
        };
        if rest.len() > 1 {
            return Err(fail("too many fields".into()));
        }
        if [table, column, kind].iter().any(|f| f.is_empty()) {
            return Err(fail("table, column and kind may not be empty".into()));
        }
        let data_type = engine_type(data_type)
            .ok_or_else(|| fail(format!("unknown data type `{data_type}`")))?;
        let label = parse_label(label_name).map_err(fail)?;
        let mut alternates = Vec::new();
        for a in rest
            .first()
            .into_iter()
            .flat_map(|a| a.split('|'))
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            // A column that may or may not count as sensitive is written `NONE` with the type
            // as an alternate: recall does not ask for it, precision does not punish it.
            let Some(alternate) = parse_label(a).map_err(fail)? else {
                return Err(fail(
                    "NONE is not an alternate: write NONE as the label and the type as its alternate"
                        .into(),
                ));
            };
            alternates.push(alternate);
        }
        if columns
            .iter()
            .any(|c| c.table == *table && c.column == *column)
        {
            return Err(fail(format!("{table}.{column} is listed twice")));
        }
        columns.push(CorpusColumn {
            table: (*table).to_owned(),
            column: (*column).to_owned(),
            data_type: data_type.to_owned(),
            kind: (*kind).to_owned(),
            label,
            alternates,
        });
    }
    if columns.is_empty() {
        return Err(CorpusError {
            corpus: name.to_owned(),
            line: 0,
            problem: "holds no column".into(),
        });
    }
    Ok(Corpus {
        name: name.to_owned(),
        columns,
    })
}

/// Every shipped corpus, parsed once. The files are part of the build and a test reads each,
/// so a malformed one fails the test suite, not a user.
pub fn corpora() -> &'static [Corpus] {
    static CORPORA: LazyLock<Vec<Corpus>> = LazyLock::new(|| {
        SOURCES
            .iter()
            .map(|(name, text)| parse(name, text).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    });
    &CORPORA
}

/// One name-and-label example the model learns from, with the corpus it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Example<'a> {
    pub corpus: &'a str,
    pub column: &'a str,
    pub label: &'static str,
}

/// The examples of every corpus except `except` (the held-out one when measuring on it).
pub fn training_examples(except: Option<&str>) -> impl Iterator<Item = Example<'static>> + '_ {
    corpora()
        .iter()
        .filter(move |c| Some(c.name.as_str()) != except)
        .flat_map(|c| {
            c.columns.iter().map(|col| Example {
                corpus: &c.name,
                column: &col.column,
                label: col.label_name(),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_corpus_file_parses_with_known_labels_and_types() {
        assert!(corpora().len() >= 12, "only {} corpora", corpora().len());
        for corpus in corpora() {
            assert!(corpus.columns.len() >= 30, "{} is too small", corpus.name);
            let sensitive = corpus.columns.iter().filter(|c| c.label.is_some()).count();
            assert!(
                sensitive > 0 && sensitive < corpus.columns.len(),
                "{} should hold sensitive and other columns",
                corpus.name
            );
            for c in &corpus.columns {
                assert!(
                    c.label.is_none_or(|l| ClassificationType::ALL.contains(&l)),
                    "{}.{}",
                    c.table,
                    c.column
                );
                assert!(
                    c.label.is_none_or(|l| !c.alternates.contains(&l)),
                    "{}.{} lists its label as an alternate",
                    c.table,
                    c.column
                );
            }
        }
    }

    #[test]
    fn unknown_labels_types_and_duplicates_are_refused_with_the_line() {
        let bad_label = parse(
            "x",
            "table,column,data_type,kind,label,alternates\nt,c,int,seq,SHOE_SIZE,\n",
        );
        assert_eq!(bad_label.unwrap_err().line, 2);
        let bad_type = parse("x", "t,c,money,seq,NONE,\n").unwrap_err();
        assert!(bad_type.problem.contains("money"), "{bad_type}");
        let bad_alternate = parse("x", "t,c,int,seq,NONE,EMAIL|X\n").unwrap_err();
        assert!(bad_alternate.problem.contains("unknown label"));
        let twice = parse("x", "t,c,int,seq,NONE,\nt,c,int,seq,NONE,\n").unwrap_err();
        assert!(twice.problem.contains("twice"));
        assert!(parse("x", "# nothing\n").is_err());
        assert!(parse("x", "t,c,varchar,email,EMAIL_ADDRESS,NONE\n").is_err());
        let ok = parse("x", "t,c,varchar,email,EMAIL_ADDRESS,USERNAME\n").unwrap();
        assert_eq!(ok.columns[0].data_type, "character varying");
        assert_eq!(ok.columns[0].alternates, vec![ClassificationType::Username]);
    }

    #[test]
    fn holding_out_a_corpus_removes_exactly_its_examples() {
        let all = training_examples(None).count();
        for corpus in corpora() {
            let held_out: Vec<_> = training_examples(Some(&corpus.name)).collect();
            assert_eq!(
                held_out.len() + corpus.columns.len(),
                all,
                "{}",
                corpus.name
            );
            assert!(held_out.iter().all(|e| e.corpus != corpus.name));
        }
    }
}
