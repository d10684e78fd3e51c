//! A closed output pipe ends the program quietly, as it ends `cat` or `grep`.
//!
//! Rust ignores SIGPIPE, so `println!` to a pipe whose reader has gone (`simota profile show |
//! head -1`) panics with "failed printing to stdout: Broken pipe". Resetting SIGPIPE would
//! need `unsafe` and would also let a dying pcscd or vpcd peer kill the process instead of
//! giving a transport error, so instead this panic, and only this one, becomes exit status
//! 141 (128 + SIGPIPE, what a shell reports for a program killed by SIGPIPE): the output was
//! cut short, so the run is not reported as a success.

/// The exit status for output cut short by a closed pipe.
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Is this panic message std's report of a write to a closed stdout/stderr pipe?
fn is_broken_pipe(msg: &str) -> bool {
    (msg.starts_with("failed printing to stdout") || msg.starts_with("failed printing to stderr"))
        && (msg.contains("Broken pipe") || msg.contains("os error 32"))
}

/// Install the panic hook (other panics keep the default report).
pub fn install() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if is_broken_pipe(msg) {
            std::process::exit(EXIT_BROKEN_PIPE);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::is_broken_pipe;

    #[test]
    fn only_the_broken_pipe_report_matches() {
        assert!(is_broken_pipe(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(is_broken_pipe(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
        assert!(!is_broken_pipe(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!is_broken_pipe("index out of bounds: Broken pipe"));
    }
}
