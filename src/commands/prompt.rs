//! Terminal prompts (of `needs new`): a line, and a picker with arrow keys
//! and type-to-filter (dialoguer's `FuzzySelect`). Used only when standard
//! input and output are both a terminal; elsewhere the commands take flags.

use std::io::{BufRead, IsTerminal, Write};

use dialoguer::console::{Term, truncate_str};

use crate::error::{Error, Result};

/// True when standard input and standard output are both a terminal.
pub fn on_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// What a prompt came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// The person answered.
    Given(T),
    /// Esc, or the end of input (Ctrl-D): nothing is chosen. (Ctrl-C is
    /// not an answer: it ends the process by SIGINT, status 130.)
    Cancelled,
}

fn terminal_error(e: std::io::Error) -> Error {
    Error::Usage(format!("the terminal prompt failed: {e}"))
}

/// Asks for one line on standard output and reads it from standard input
/// (the terminal edits it); the end of input is `Cancelled`.
pub fn line(prompt: &str) -> Result<Answer<String>> {
    let mut stdout = std::io::stdout();
    write!(stdout, "{prompt}")
        .and_then(|()| stdout.flush())
        .map_err(terminal_error)?;
    let mut text = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut text)
        .map_err(terminal_error)?;
    Ok(match read {
        0 => Answer::Cancelled,
        _ => Answer::Given(text.trim().to_string()),
    })
}

/// Lets the person pick one of `items` (one line each, cut to the
/// terminal's width): arrow keys move, typed text filters, Enter picks, Esc
/// cancels. The answer is the item's index. Ctrl-C, read as a key in raw
/// mode, is raised as SIGINT by `console`, which ends the process.
pub fn pick(prompt: &str, items: &[String]) -> Result<Answer<usize>> {
    let term = Term::stdout();
    let width = usize::from(term.size().1).saturating_sub(4).max(20);
    let lines: Vec<String> = items
        .iter()
        .map(|i| truncate_str(i, width, "…").into_owned())
        .collect();
    let picked = dialoguer::FuzzySelect::new()
        .with_prompt(prompt)
        .items(&lines)
        .default(0)
        .interact_on_opt(&term);
    match picked {
        Ok(Some(index)) => Ok(Answer::Given(index)),
        Ok(None) => Ok(Answer::Cancelled),
        Err(dialoguer::Error::IO(e)) => Err(terminal_error(e)),
    }
}
