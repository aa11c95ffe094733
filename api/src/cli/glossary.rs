//! `pursight glossary import FILE.csv` and `pursight glossary export [--output FILE]`: a
//! tenant's business glossary as CSV.
//!
//! The file has the header `name,definition,synonyms,related,owners,status` and one term per
//! row; `synonyms`, `related` and `owners` hold several values separated by `;`, an owner as
//! `kind:type:name` (`team:business:Billing`, `person:steward:ana@example.com`), `status` is
//! `draft` (also when empty), `approved` or `deprecated`. An import checks every row (the file's
//! shape here, the content in the domain) and reports every problem with its line before
//! anything is recorded; a valid file is recorded as one commit, all or nothing. An export
//! writes the glossary in the same form, sorted by name, so it imports again unchanged.
//!
//! Like `pursight tenant`, both talk to the event store directly (no server needed), as the
//! operator holding its credentials.

use super::source::Actor;
use crate::settings::StoreArgs;
use anyhow::Context;
use clap::Subcommand;
use commands::glossary::GlossaryCommands;
use commands::{CommandContext, CommandError, CommandHandler};
use domain::access::Role;
use domain::glossary::{GlossaryState, ImportRow};
use domain::TenantId;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The columns of a glossary CSV file, in order.
pub const HEADER: [&str; 6] = [
    "name",
    "definition",
    "synonyms",
    "related",
    "owners",
    "status",
];

/// The largest file an import reads (the domain bounds rows and characters too).
const MAX_FILE_BYTES: u64 = 256 * 1024;

#[derive(Debug, Subcommand)]
pub enum GlossaryCommand {
    /// Import terms from a CSV file (header name,definition,synonyms,related,owners,status;
    /// lists separated by `;`; owners as kind:type:name). New names are defined, known ones
    /// changed, and statuses moved (approving needs the approve-glossary permission). Every
    /// bad row is reported with its line and nothing is recorded (exit code 1).
    Import {
        /// The CSV file (UTF-8, at most 256 KiB, at most 500 rows).
        file: PathBuf,
    },
    /// Export the glossary as CSV (same columns), sorted by name; it imports again unchanged.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

pub async fn run(
    store: &StoreArgs,
    database: &crate::settings::DatabaseArgs,
    actor: &Actor,
    command: GlossaryCommand,
) -> anyhow::Result<ExitCode> {
    let tenant = TenantId::parse(&actor.tenant)?;
    // Files are read and checked before the store is contacted.
    let rows = match &command {
        GlossaryCommand::Import { file } => match read_rows(file)? {
            Ok(rows) => Some(rows),
            Err(problems) => return Err(refused(file, &problems)),
        },
        GlossaryCommand::Export { .. } => None,
    };
    // Owners and definitions are sealed (and opened for the export) with the key table.
    let store = super::sealing_store(store, database).await?;
    let glossary = GlossaryCommands::new(CommandHandler::new(store));
    let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
    let ctx = CommandContext::new(
        tenant.clone(),
        format!("cli:{user}"),
        vec![Role::Admin],
        None,
    );
    match (command, rows) {
        (GlossaryCommand::Import { file }, Some(rows)) => {
            let count = rows.len();
            match glossary.import(&ctx, rows).await {
                Ok(outcome) => {
                    let events = outcome.event_ids().len();
                    if events == 0 {
                        println!(
                            "{count} rows imported into the glossary of {tenant}: nothing changed"
                        );
                    } else {
                        println!(
                            "{count} rows imported into the glossary of {tenant}: {events} events recorded (sequence {})",
                            outcome.sequence
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(CommandError::Validation(message)) => {
                    // The domain's problems, one per line as the file numbers them.
                    let message = message
                        .strip_prefix("invalid glossary input: ")
                        .unwrap_or(&message);
                    let problems: Vec<String> = message
                        .split("; line ")
                        .enumerate()
                        .map(|(i, p)| {
                            if i == 0 {
                                p.to_owned()
                            } else {
                                format!("line {p}")
                            }
                        })
                        .collect();
                    let summary = refused(&file, &problems);
                    // The refusal goes back as the command's error, so the audit trail records it.
                    Err(
                        anyhow::Error::new(CommandError::Validation(message.to_owned()))
                            .context(summary.to_string()),
                    )
                }
                Err(err) => Err(err.into()),
            }
        }
        (GlossaryCommand::Export { output }, _) => {
            let state = glossary.state(&ctx).await?;
            let csv = to_csv(&state)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &csv)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "{} terms of {tenant} written to {}",
                        state.terms.len(),
                        path.display()
                    );
                }
                None => std::io::stdout().write_all(csv.as_bytes())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        (GlossaryCommand::Import { .. }, None) => unreachable!("rows are read for every import"),
    }
}

/// Prints every problem, one per line; the error says nothing was recorded.
fn refused(file: &std::path::Path, problems: &[String]) -> anyhow::Error {
    eprintln!("{} has {} problems:", file.display(), problems.len());
    for problem in problems {
        eprintln!("  {}", domain::text::escape_controls(problem));
    }
    anyhow::anyhow!(
        "{} was not imported: {} problems (listed above); nothing was recorded, fix the file and import it again",
        file.display(),
        problems.len()
    )
}

/// Reads `file`: an I/O failure is an error; a file of the wrong shape is `Ok(Err(problems))`.
fn read_rows(file: &std::path::Path) -> anyhow::Result<Result<Vec<ImportRow>, Vec<String>>> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Ok(Err(vec![format!(
            "the file has {size} bytes; at most {MAX_FILE_BYTES} per import (split it)"
        )]));
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(parse_csv(&bytes))
}

/// Splits a list field on `;`, dropping empty items.
fn list(field: &str) -> Vec<String> {
    field
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The rows of a glossary CSV file, or every problem of its shape with its line (the content is
/// the domain's to check).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ImportRow>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let mut problems = Vec::new();
    match reader.headers() {
        Ok(headers) => {
            let found: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
            // A spreadsheet may save a byte-order mark before the first column's name.
            let found: Vec<&str> = found
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}'))
                .collect();
            if found != HEADER {
                return Err(vec![format!(
                    "line 1: the header must be {}",
                    HEADER.join(",")
                )]);
            }
        }
        Err(err) => return Err(vec![format!("line 1: {err}")]),
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Err(err) => {
                let line = err.position().map_or(0, |p| line_at(bytes, p.byte()));
                problems.push(format!(
                    "line {line}: not readable as CSV ({})",
                    csv_reason(&err)
                ));
            }
            Ok(record) => {
                let line = record.position().map_or(0, |p| line_at(bytes, p.byte()));
                if record.len() != HEADER.len() {
                    problems.push(format!(
                        "line {line}: expected {} fields, found {}",
                        HEADER.len(),
                        record.len()
                    ));
                    continue;
                }
                rows.push(ImportRow {
                    line,
                    name: record[0].to_owned(),
                    definition: record[1].to_owned(),
                    synonyms: list(&record[2]),
                    related: list(&record[3]),
                    owners: list(&record[4]),
                    status: record[5].trim().to_owned(),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// The line (from 1) of the record starting at byte `offset`. Counted here rather than taken
/// from the reader: after a `\r\n` line end the reader's record starts at the `\n`, and its line
/// count is one short from then on.
fn line_at(bytes: &[u8], offset: u64) -> u64 {
    let mut start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    1 + bytes[..start].iter().filter(|b| **b == b'\n').count() as u64
}

/// Why the CSV reader failed, without echoing file content.
fn csv_reason(err: &csv::Error) -> &'static str {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields",
        _ => "malformed quoting",
    }
}

/// The glossary as CSV: the header, then one row per term sorted by name.
pub fn to_csv(state: &GlossaryState) -> anyhow::Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for (_, term) in state.sorted() {
        let owners: Vec<String> = term.content.owners.iter().map(|o| o.to_compact()).collect();
        writer.write_record([
            term.name.clone(),
            term.content.definition.clone(),
            term.content.synonyms.join(";"),
            term.content.related.join(";"),
            owners.join(";"),
            term.status.as_str().to_owned(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(String::from_utf8(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::glossary::{Glossary, GlossaryCommand as G};
    use domain::Aggregate;

    const FILE: &str = "name,definition,synonyms,related,owners,status\r\n\
Customer,\"A party that buys from us; see \"\"Order\"\".\nTwo lines.\",Client;Buyer,Order,team:business:Sales;person:steward:Ana,approved\r\n\
Order,A purchase.,,,,\r\n";

    #[test]
    fn a_file_round_trips_through_the_domain_and_back() {
        let rows = parse_csv(FILE.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        // The first row holds a line break, so the second starts on line 4.
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[0].synonyms, ["Client", "Buyer"]);
        let events = Glossary::decide(&Default::default(), &G::ImportTerms { rows }).unwrap();
        let state = Glossary::replay(&events);
        let exported = to_csv(&state).unwrap();
        let again = parse_csv(exported.as_bytes()).unwrap();
        assert!(Glossary::decide(&state, &G::ImportTerms { rows: again })
            .unwrap()
            .is_empty());
        assert!(exported.starts_with("name,definition,synonyms,related,owners,status\r\n"));
        assert!(exported.contains("Buyer;Client"), "{exported}");
    }

    #[test]
    fn shape_problems_are_reported_with_their_lines() {
        let bad = "name,definition,synonyms,related,owners,status\r\nA,b,,,,\r\nB,only three,x\r\nC,d,,,,draft,extra\r\n";
        assert_eq!(
            parse_csv(bad.as_bytes()).unwrap_err(),
            [
                "line 3: expected 6 fields, found 3",
                "line 4: expected 6 fields, found 7"
            ]
        );
        assert_eq!(
            parse_csv(b"term,meaning\nA,b\n").unwrap_err(),
            ["line 1: the header must be name,definition,synonyms,related,owners,status"]
        );
        assert!(
            parse_csv(b"name,definition,synonyms,related,owners,status\nA,\xff,,,,\n").unwrap_err()
                [0]
            .starts_with("line 2: not readable as CSV (not UTF-8)")
        );
    }
}
