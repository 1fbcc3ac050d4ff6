//! Running an oracle program with bytes on its standard input.

use std::io::{self, Write};
use std::process::{Command, Output, Stdio};
use std::thread;

/// Runs `cmd` with `stdin` as its standard input and collects its output.
///
/// The input is written from a second thread, so a program that writes much before it
/// has read everything cannot deadlock against us; one that exits without reading
/// (a broken pipe) is fine too.
pub(crate) fn run(cmd: &mut Command, stdin: &[u8]) -> io::Result<Output> {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = thread::spawn(move || match pipe.write_all(&input) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    });
    let output = child.wait_with_output()?;
    writer.join().expect("stdin writer panicked")?;
    Ok(output)
}

/// Standard output and standard error, lossily decoded, joined for a message.
pub(crate) fn describe(output: &Output) -> String {
    format!(
        "{}; stdout: {}; stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim_end(),
        String::from_utf8_lossy(&output.stderr).trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_input_round_trips_through_cat() {
        let input: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let out = run(&mut Command::new("cat"), &input).unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, input);
    }

    #[test]
    fn a_program_that_ignores_stdin_is_fine() {
        let input = vec![b'x'; 1_000_000];
        let out = run(Command::new("sh").args(["-c", "echo hi"]), &input).unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"hi\n");
    }
}
