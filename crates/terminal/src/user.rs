//! The scripted user: a queue of answers consumed by the proactive commands that need one.
//!
//! Which answer a command takes (TS 102 223 §6.4 / §6.8 results):
//!
//! | command | answers it consumes | result sent |
//! |---|---|---|
//! | DISPLAY TEXT | `Ok`, `Cancel`, `Back`, `Timeout`, `Help` | `00` / `10` / `11` / `12` / `13`(as `00`: no help for DISPLAY TEXT) |
//! | GET INKEY | `Key`, `Text` (first character), `Yes`/`No`, `Ok` (yes), plus the four above | `00` + text string |
//! | GET INPUT | `Text`, `Ok` (default text or empty), plus the four above | `00` + text string |
//! | SELECT ITEM | `Item`, `Ok` (default item, else the first), plus the four above | `00` + item identifier |
//!
//! When the queue is empty, or the next answer does not fit the command (an `Item` queued
//! while the card asks for text), the default is used and the queued answer stays for the
//! next command: DISPLAY TEXT, PLAY TONE and every non-interactive command succeed (`00`);
//! GET INKEY, GET INPUT and SELECT ITEM get *no response from user* (`12`), as a real phone
//! times out when nobody touches it.

/// One action of the simulated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAnswer {
    /// Press OK / accept.
    Ok,
    /// Cancel: proactive session terminated by the user (result `10`).
    Cancel,
    /// Back: backward move requested (result `11`).
    Back,
    /// Do nothing until the command times out: no response from user (result `12`).
    Timeout,
    /// Ask for help (result `13`).
    Help,
    /// Type this text (GET INPUT; GET INKEY takes the first character).
    Text(String),
    /// Press this key (GET INKEY).
    Key(char),
    /// Answer yes (GET INKEY yes/no).
    Yes,
    /// Answer no (GET INKEY yes/no).
    No,
    /// Choose this item (SELECT ITEM).
    Item(u8),
}

impl UserAnswer {
    /// Whether this answer is a navigation answer every interactive command accepts.
    pub fn is_navigation(&self) -> bool {
        matches!(
            self,
            UserAnswer::Cancel | UserAnswer::Back | UserAnswer::Timeout | UserAnswer::Help
        )
    }

    /// Parse the script form: `ok`, `cancel`, `back`, `timeout`, `help`, `yes`, `no`,
    /// `input TEXT`, `key C`, `item N` (N decimal or `0x`-hex).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (word, rest) = s
            .split_once(char::is_whitespace)
            .map_or((s, ""), |(w, r)| (w, r.trim()));
        Ok(match word.to_ascii_lowercase().as_str() {
            "ok" => UserAnswer::Ok,
            "cancel" => UserAnswer::Cancel,
            "back" => UserAnswer::Back,
            "timeout" => UserAnswer::Timeout,
            "help" => UserAnswer::Help,
            "yes" => UserAnswer::Yes,
            "no" => UserAnswer::No,
            "input" | "text" => UserAnswer::Text(rest.to_string()),
            "key" => {
                let mut c = rest.chars();
                match (c.next(), c.next()) {
                    (Some(k), None) => UserAnswer::Key(k),
                    _ => return Err(format!("key: expected one character, got {rest:?}")),
                }
            }
            "item" => {
                let n = if let Some(h) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
                    u8::from_str_radix(h, 16)
                } else {
                    rest.parse::<u8>()
                };
                UserAnswer::Item(n.map_err(|_| format!("item: {rest:?} is not an item identifier 0-255"))?)
            }
            _ => return Err(format!("unknown user answer {word:?} (ok, cancel, back, timeout, help, yes, no, input TEXT, key C, item N)")),
        })
    }
}

impl From<&script::ast::UserAnswer> for UserAnswer {
    fn from(a: &script::ast::UserAnswer) -> Self {
        use script::ast::UserAnswer as S;
        match a {
            S::Ok => UserAnswer::Ok,
            S::Cancel => UserAnswer::Cancel,
            S::Back => UserAnswer::Back,
            S::Timeout => UserAnswer::Timeout,
            S::Input(t) => UserAnswer::Text(t.clone()),
            S::Item(i) => UserAnswer::Item(*i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert_eq!(UserAnswer::parse("ok").unwrap(), UserAnswer::Ok);
        assert_eq!(
            UserAnswer::parse("input 1234").unwrap(),
            UserAnswer::Text("1234".into())
        );
        assert_eq!(
            UserAnswer::parse("item 0x1A").unwrap(),
            UserAnswer::Item(0x1A)
        );
        assert_eq!(UserAnswer::parse("key #").unwrap(), UserAnswer::Key('#'));
        assert!(UserAnswer::parse("item 300").is_err());
        assert!(UserAnswer::parse("dance").is_err());
    }
}
