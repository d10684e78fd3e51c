//! The script runner's seam (`script::Toolkit`): the directives `terminal-profile HEX`,
//! `user …`, `fetch-all`, `sms-pp KEYSET TAR DATA [spi=…] [cntr=…]` and `menu N` executed by
//! the terminal over the runner's card connection.

use crate::smspp::OtaRequest;
use crate::user::UserAnswer;
use crate::{Terminal, TerminalError};
use ota::cat::TerminalProfile;
use ota::{Counter, Keyset, KeysetFile, Spi, Tar};
use script::{Por, Toolkit, ToolkitCommand, ToolkitError, ToolkitOutcome};
use transport::Transport;

/// A named keyset the terminal can send OTA messages with.
#[derive(Debug, Clone)]
pub struct KeysetEntry {
    /// Keys and indexes.
    pub keys: Keyset,
    /// SPI used when the directive gives none.
    pub spi: Spi,
    /// Counter for the next message; advanced after each message sent with it.
    pub counter: Counter,
    /// A counter file ([`crate::counter_file`]) that holds the next CNTR: read before each
    /// message, written back after it (the keyset file's `counter_file`).
    pub counter_file: Option<std::path::PathBuf>,
}

impl KeysetEntry {
    /// Default SPI `16 19`: ciphered, CC, counter higher than the card's; PoR always, with
    /// CC, ciphered, in the SMS-DELIVER-REPORT (ENVELOPE response). Counter starts at 1.
    pub fn new(keys: Keyset) -> Self {
        KeysetEntry {
            keys,
            spi: Spi::from_bytes([0x16, 0x19]),
            counter: Counter::from_bytes([0, 0, 0, 0, 1]),
            counter_file: None,
        }
    }
}

impl Terminal {
    /// Register a keyset under `name` (the directive's `KEYSET`).
    pub fn add_keyset(&mut self, name: &str, e: KeysetEntry) {
        self.keysets.insert(name.to_string(), e);
    }

    /// Record a place keysets were looked for (`--keysets FILE`, `DIR/keysets.toml (not
    /// there)`): an `sms-pp` naming an unknown keyset lists them.
    pub fn note_keyset_place(&mut self, place: impl Into<String>) {
        self.keyset_places.push(place.into());
    }

    /// Register every keyset of a keyset file (their counters become the next CNTR).
    pub fn add_keyset_file(&mut self, f: &KeysetFile) {
        self.add_keyset_file_in(f, std::path::Path::new(""));
    }

    /// Like [`Terminal::add_keyset_file`] for a file in `dir`: its `counter_file` paths are
    /// relative to `dir`.
    pub fn add_keyset_file_in(&mut self, f: &KeysetFile, dir: &std::path::Path) {
        for (name, k) in &f.keysets {
            let mut e = KeysetEntry::new(k.keyset.clone());
            e.counter = k.counter;
            e.counter_file = k.counter_file.as_ref().map(|p| dir.join(p));
            self.keysets.insert(name.clone(), e);
        }
    }

    fn notes_since(&self, shown: usize, exchanges: usize) -> Vec<String> {
        let mut v: Vec<String> = self.shown()[shown..]
            .iter()
            .map(|s| format!("shown {:?}: {}", s.role, s.text))
            .collect();
        for x in &self.exchanges()[exchanges..] {
            let t = x
                .command
                .as_ref()
                .map(|c| format!("{:?}", c.details().command_type))
                .unwrap_or_else(|| "undecodable".into());
            let r = x.response.result();
            v.push(format!(
                "{t} -> result {:02X} (card {:04X})",
                u8::from(r.general),
                x.sw
            ));
            v.extend(x.notes.iter().cloned());
        }
        v
    }

    fn execute_inner(
        &mut self,
        card: &mut dyn Transport,
        cmd: &ToolkitCommand,
    ) -> Result<ToolkitOutcome, TerminalError> {
        let (s0, x0) = (self.shown().len(), self.exchanges().len());
        let mut out = ToolkitOutcome::default();
        match cmd {
            ToolkitCommand::TerminalProfile(p) => {
                self.config.profile = TerminalProfile(p.clone());
                let sw = self.terminal_profile(card)?;
                out.notes.push(format!("TERMINAL PROFILE -> {sw:04X}"));
            }
            ToolkitCommand::User(a) => self.push_answer(UserAnswer::from(a)),
            ToolkitCommand::FetchAll => {
                let n = self.fetch_all(card)?;
                out.notes.push(format!("{n} proactive command(s) handled"));
            }
            ToolkitCommand::Menu(id) => {
                let sw = self.select_menu_item(card, *id, false)?;
                out.notes.push(format!("MENU SELECTION {id} -> {sw:04X}"));
            }
            ToolkitCommand::SmsPp {
                keyset,
                tar,
                data,
                spi,
                options,
            } => {
                let entry = self.keysets.get(keyset).cloned().ok_or_else(|| {
                    let known = if self.keysets.is_empty() {
                        "none".to_string()
                    } else {
                        self.keysets.keys().cloned().collect::<Vec<_>>().join(", ")
                    };
                    let places = if self.keyset_places.is_empty() {
                        "nowhere (no keyset file given)".to_string()
                    } else {
                        self.keyset_places.join(", ")
                    };
                    TerminalError::Usage(format!(
                        "unknown keyset {keyset:?} (known: {known}); keysets were looked for in: {places}"
                    ))
                })?;
                let mut counter = entry.counter;
                if let Some(p) = &entry.counter_file {
                    if let Some(c) = crate::counter_file::read(p).map_err(TerminalError::Usage)? {
                        counter = c;
                    }
                }
                let mut keys = entry.keys.clone();
                for (k, v) in options {
                    match k.as_str() {
                        // KIc / KID byte (TS 102 225 §5.1.2/§5.1.3): the key index (b8..b5) is
                        // taken; the algorithm nibble must be the keyset's.
                        "kic" | "kid" => {
                            let b = parse_num(&format!("0x{}", v.trim_start_matches("0x")))
                                .and_then(|n| u8::try_from(n).ok())
                                .ok_or_else(|| {
                                    TerminalError::Usage(format!("{k}={v:?} is not one hex byte"))
                                })?;
                            let have = if k == "kic" {
                                keys.kic().to_byte()
                            } else {
                                keys.kid().to_byte()
                            };
                            if have & 0x0F != b & 0x0F {
                                return Err(TerminalError::Usage(format!(
                                    "{k}={b:02X} names another algorithm than keyset {keyset:?} ({have:02X})"
                                )));
                            }
                            if k == "kic" {
                                keys.kic_index = b >> 4;
                            } else {
                                keys.kid_index = b >> 4;
                            }
                        }
                        "cntr" | "counter" => {
                            let n = parse_num(v).ok_or_else(|| {
                                TerminalError::Usage(format!("cntr={v:?} is not a number"))
                            })?;
                            counter = Counter::new(n)?;
                        }
                        _ => {
                            return Err(TerminalError::Usage(format!(
                                "unknown option {k}={v} (known: spi=, cntr=, kic=, kid=)"
                            )))
                        }
                    }
                }
                let req = OtaRequest {
                    keys: &keys,
                    spi: spi.map(Spi::from_bytes).unwrap_or(entry.spi),
                    tar: Tar::from_slice(tar)?,
                    counter,
                    data: data.clone(),
                    concat_ref: counter.value() as u8,
                };
                let o = self.deliver_sms_pp(card, &req)?;
                // The next CNTR: above the one sent, or above the card's when its PoR refused
                // the counter and gave its own (then a hint for the transcript).
                let (status, por_counter) = match o.por.as_ref().map(|p| &p.packet) {
                    None => (None, None),
                    Some(Ok(pkt)) => (Some(pkt.status), Some(pkt.counter)),
                    // A PoR that did not decode says nothing: treated as a refusal that leaves
                    // the counter file alone.
                    Some(Err(_)) => (Some(ota::ResponseStatus::Reserved(0xFF)), None),
                };
                let advice = crate::counter_file::next_counter(counter, status, por_counter);
                if let Some(h) = status.and_then(|s| advice.hint(s, counter)) {
                    out.notes.push(h);
                }
                if let (Some(p), Some(n)) = (&entry.counter_file, advice.next) {
                    crate::counter_file::write(p, n).map_err(TerminalError::Usage)?;
                }
                if let Some(e) = self.keysets.get_mut(keyset) {
                    e.counter = advice.next.or(counter.next()).unwrap_or(counter);
                }
                out.notes
                    .push(format!("ENVELOPE status words: {:04X?}", o.envelope_sws));
                if o.busy {
                    out.notes.push("card busy (9300): RP-ERROR D4".into());
                }
                match &o.por {
                    Some(p) => match &p.packet {
                        Ok(pkt) => {
                            out.por = Some(Por {
                                status: pkt.status.to_byte(),
                                data: pkt.data.clone(),
                            })
                        }
                        Err(e) => out
                            .notes
                            .push(format!("PoR via {:?} did not decode: {e}", p.path)),
                    },
                    None => out.notes.push("no PoR".into()),
                }
            }
        }
        let mut n = self.notes_since(s0, x0);
        out.notes.append(&mut n);
        Ok(out)
    }
}

fn parse_num(v: &str) -> Option<u64> {
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

impl Toolkit for Terminal {
    fn execute(
        &mut self,
        card: &mut dyn Transport,
        cmd: &ToolkitCommand,
    ) -> Result<ToolkitOutcome, ToolkitError> {
        self.execute_inner(card, cmd)
            .map_err(|e| ToolkitError(e.to_string()))
    }
}
