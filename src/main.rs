//! The `dangan` binary.

fn main() -> std::process::ExitCode {
    dangan::cli::run()
}
