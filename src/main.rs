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
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    std::process::ExitCode::from(cellaudit::run(cli).await)
}
