//! `dangan-sandbox`: the child in which dangan parses one uploaded file, as `dangan sandbox`
//! does, in a binary that holds only the parsers. The server starts one for every file it
//! inspects or reads in a child; this one starts in a fraction of the time, because the
//! dynamic loader has a fraction of the server's code and tables to relocate.
//!
//! `dangan-sandbox [sandbox] [TASK]`: the task as JSON, else on standard input.

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    // the server calls either program the same way
    if args.peek().is_some_and(|arg| arg == "sandbox") {
        args.next();
    }
    let task = args.next();
    dangan::extract::sandbox_main(task.as_deref())
}
