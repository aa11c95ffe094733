//! The `pursight` binary.
#![forbid(unsafe_code)]

use clap::Parser;

// The command path allocates many small JSON values; mimalloc handles that churn far better
// than glibc's malloc (measured with `pursight bench append`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = api::cli::Cli::parse();
    api::cli::init_tracing(&cli);
    match api::cli::run(cli).await {
        Ok(code) => code,
        Err(err) => {
            // One clear sentence with what to do; the cause chain follows on the same line, and
            // stays on it: a name from a source cannot start a line of its own.
            let message = format!("{err:#}");
            eprintln!("error: {}", domain::text::escape_controls(&message));
            std::process::ExitCode::FAILURE
        }
    }
}
