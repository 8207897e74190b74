//! The `cellaudit` binary: parses arguments and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match cellaudit::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 on a usage error, which monitoring would read as "failures found".
            let code = if e.use_stderr() {
                cellaudit::exit_codes::AUDIT_ERROR
            } else {
                0
            };
            // A bad value is one line ("error: invalid value ... : must be ..."), not a usage screen.
            if matches!(
                e.kind(),
                clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue
            ) {
                let text = e.to_string();
                eprintln!(
                    "cellaudit: {}",
                    text.lines().next().unwrap_or("invalid value")
                );
            } else {
                let _ = e.print();
            }
            return std::process::ExitCode::from(code);
        }
    };
    std::process::ExitCode::from(cellaudit::run(cli).await)
}
