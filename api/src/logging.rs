//! Log lines that cannot be forged: every field value is written with its control characters
//! escaped.
//!
//! Values in logs come from outside: a discovered column name, a source's error message, a
//! tenant's free text. Written as they are, a newline in one starts what reads as a log line of
//! its own (with any level and message the source's owner likes), and an escape sequence
//! repaints the operator's terminal. [`EscapingFields`] formats an event's and its spans' fields
//! as the default formatter does, then escapes each control character (`\u{a}`) with
//! [`domain::text::escape_controls`], so one event is always exactly one line.

use std::fmt;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::FormatFields;

/// The default field formatter (`name=value`, Display for `%`, Debug for `?`), with control
/// characters escaped. It formats without ANSI styling: styling is made of control characters.
#[derive(Debug, Default)]
pub struct EscapingFields {
    inner: DefaultFields,
}

impl<'writer> FormatFields<'writer> for EscapingFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut formatted = String::new();
        self.inner
            .format_fields(Writer::new(&mut formatted), fields)?;
        writer.write_str(&domain::text::escape_controls(&formatted))
    }
}

/// Installs the process's subscriber: `filter` (an `EnvFilter` directive), to standard error,
/// every field escaped.
pub fn init(filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .fmt_fields(EscapingFields::default())
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Everything the subscriber writes, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_name_with_a_newline_cannot_forge_a_log_line() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .fmt_fields(EscapingFields::default())
            .finish();
        let column = "email\n2026-01-01T00:00:00Z ERROR pursight: admin token leaked\u{1b}[2J";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("scan", table = %"orders\r\nx");
            let _entered = span.enter();
            tracing::warn!(column = %column, debug = ?column, "discovered\ta column");
        });
        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(output.lines().count(), 1, "{output}");
        assert!(
            output.contains("column=email\\u{a}2026-01-01T00:00:00Z ERROR pursight: admin token leaked\\u{1b}[2J"),
            "{output}"
        );
        assert!(output.contains("table=orders\\u{d}\\u{a}x"), "{output}");
        assert!(output.contains("discovered\\u{9}a column"), "{output}");
        assert!(
            !output.trim_end().contains(['\r', '\u{1b}', '\t']),
            "{output}"
        );
    }
}
