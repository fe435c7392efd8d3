//! Terminal prompts and secret input. The only place that reads a terminal.

use std::io::{IsTerminal, Read};

use clawvault::secret::{strip_trailing_newline, SecretString};
use clawvault::unlock::Prompter;
use clawvault::{Error, Result};
use zeroize::Zeroizing;

/// Prompts on the controlling terminal, without echo, only when stdin is a TTY.
pub struct TtyPrompter;

impl Prompter for TtyPrompter {
    fn passphrase(&mut self, prompt: &str) -> Option<std::result::Result<SecretString, String>> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        Some(
            rpassword::prompt_password(prompt)
                .map(SecretString::from)
                .map_err(|e| format!("cannot read from the terminal: {e}")),
        )
    }
}

/// Ask for a new passphrase twice. `None` without a terminal.
pub fn new_passphrase_twice() -> Option<Result<SecretString>> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let first = match rpassword::prompt_password("New vault passphrase: ") {
        Ok(p) => Zeroizing::new(p),
        Err(e) => {
            return Some(Err(Error::Other(format!(
                "cannot read from the terminal: {e}"
            ))))
        }
    };
    let second = match rpassword::prompt_password("Repeat the passphrase: ") {
        Ok(p) => Zeroizing::new(p),
        Err(e) => {
            return Some(Err(Error::Other(format!(
                "cannot read from the terminal: {e}"
            ))))
        }
    };
    if first.is_empty() {
        return Some(Err(Error::Usage("the passphrase is empty".into())));
    }
    if *first != *second {
        return Some(Err(Error::Usage(
            "the two passphrases differ; nothing was changed".into(),
        )));
    }
    Some(Ok(SecretString::from(first.to_string())))
}

/// Read one secret: from a no-echo prompt on a terminal, else from stdin. One
/// trailing newline is stripped; empty or multi-line input is refused.
pub fn read_secret(what: &str) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    if std::io::stdin().is_terminal() {
        let s = Zeroizing::new(
            rpassword::prompt_password(format!("Paste the {what} (input is hidden): "))
                .map_err(|e| Error::Other(format!("cannot read from the terminal: {e}")))?,
        );
        buf.extend_from_slice(s.as_bytes());
    } else {
        std::io::stdin()
            .lock()
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| Error::Other(format!("cannot read the {what} from stdin: {e}")))?;
    }
    strip_trailing_newline(&mut buf);
    if buf.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Usage(format!(
            "the {what} is empty; nothing was stored"
        )));
    }
    if buf.contains(&b'\n') {
        return Err(Error::Usage(format!(
            "the {what} spans several lines; paste exactly one line; nothing was stored"
        )));
    }
    if std::str::from_utf8(&buf).is_err() {
        return Err(Error::Usage(format!(
            "the {what} is not valid UTF-8; nothing was stored"
        )));
    }
    Ok(buf)
}

pub fn stdin_is_tty() -> bool {
    std::io::stdin().is_terminal()
}

pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// Ask a yes/no question on a terminal; `false` without one.
pub fn confirm(question: &str) -> bool {
    if !stdin_is_tty() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES")
}

/// A single no-echo question, `None` without a terminal.
pub struct TtyPromptOnce;

impl TtyPromptOnce {
    pub fn ask(prompt: &str) -> Option<Result<SecretString>> {
        TtyPrompter
            .passphrase(prompt)
            .map(|r| r.map_err(Error::Other))
    }
}
