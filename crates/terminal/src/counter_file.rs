//! Counter files: the next CNTR (TS 102 225 §5.1.1) a sender uses with a key set, kept in a
//! small text file (`0x0000000102`, decimal also read) so that runs of `simota run`,
//! `simota ota send` and `simota wpki --reader` follow the card's counter without the user
//! tracking it. Written atomically (a temporary file renamed over the old one).
//!
//! [`next_counter`] decides what to write after a packet, from its PoR: an accepted packet
//! moves the next CNTR above the one sent; a counter refused with the card's own counter in
//! the PoR (`cntr-low`/`cntr-high`) moves it above the card's; any other refusal leaves it.

use ota::{Counter, ResponseStatus};
use std::io::Write;
use std::path::Path;

/// Read the next CNTR from `path`; `Ok(None)` when the file does not exist yet.
pub fn read(path: &Path) -> Result<Option<Counter>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => ota::keyfile::parse_counter(t.trim())
            .map(Some)
            .map_err(|e| format!("counter file {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("counter file {}: {e}", path.display())),
    }
}

/// Write `next` to `path` atomically: a temporary file beside it, synced, then renamed over
/// it, so a crash leaves the old or the new counter, never a torn one.
pub fn write(path: &Path, next: Counter) -> Result<(), String> {
    let err = |e: std::io::Error| format!("counter file {}: {e}", path.display());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "counter".into());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(format!("{:#012x}\n", next.value()).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(e)
    })
}

/// What a PoR says about the counter, for the next packet and for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterAdvice {
    /// The CNTR to use next, when known (`None`: keep what was planned).
    pub next: Option<Counter>,
    /// The card's counter, when its PoR carried it (a refused counter).
    pub card: Option<Counter>,
}

impl CounterAdvice {
    /// A sentence for the user after a refused counter (`None` when the counter was not the
    /// reason): the card's counter and the next CNTR, or that the card did not say.
    pub fn hint(&self, status: ResponseStatus, sent: Counter) -> Option<String> {
        if !matches!(
            status,
            ResponseStatus::CounterLow
                | ResponseStatus::CounterHigh
                | ResponseStatus::CounterBlocked
        ) {
            return None;
        }
        Some(match (self.card, self.next) {
            (_, _) if status == ResponseStatus::CounterBlocked => format!(
                "counter {:#x} refused ({}): the card's counter for this key set is at its maximum",
                sent.value(),
                status.short_name()
            ),
            (Some(c), Some(n)) => format!(
                "counter {:#x} refused ({}): the card's counter is {:#x} (from its PoR), next counter {:#x}",
                sent.value(),
                status.short_name(),
                c.value(),
                n.value()
            ),
            _ => format!(
                "counter {:#x} refused ({}): the card's PoR did not give its counter",
                sent.value(),
                status.short_name()
            ),
        })
    }
}

/// The next CNTR after sending `sent`, given the PoR's status and CNTR (`None`, `None` when no
/// PoR came back: the packet is taken as accepted).
pub fn next_counter(
    sent: Counter,
    status: Option<ResponseStatus>,
    por_counter: Option<Counter>,
) -> CounterAdvice {
    let above = |c: Counter| c.next();
    match status {
        None | Some(ResponseStatus::PorOk) => CounterAdvice {
            next: above(sent),
            card: None,
        },
        // The card answers a refused counter with its own (see uicc's OTA receiver); a CNTR
        // equal to the one sent is the card's too when the packet replayed it (cntr-low).
        Some(ResponseStatus::CounterLow) => match por_counter {
            Some(c) if c.value() >= sent.value() => CounterAdvice {
                next: above(c),
                card: Some(c),
            },
            _ => CounterAdvice {
                next: None,
                card: None,
            },
        },
        Some(ResponseStatus::CounterHigh) => match por_counter {
            Some(c) if c.value() < sent.value() => CounterAdvice {
                next: above(c),
                card: Some(c),
            },
            _ => CounterAdvice {
                next: None,
                card: None,
            },
        },
        Some(_) => CounterAdvice {
            next: None,
            card: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: u64) -> Counter {
        Counter::new(v).unwrap()
    }

    #[test]
    fn advice_follows_the_por() {
        use ResponseStatus as S;
        assert_eq!(next_counter(c(5), None, None).next, Some(c(6)));
        assert_eq!(
            next_counter(c(5), Some(S::PorOk), Some(c(5))).next,
            Some(c(6))
        );
        // cntr-low with the card's counter: next is above the card's, not above the one sent.
        let a = next_counter(c(0x101), Some(S::CounterLow), Some(c(0x1FF)));
        assert_eq!((a.card, a.next), (Some(c(0x1FF)), Some(c(0x200))));
        assert_eq!(
            a.hint(S::CounterLow, c(0x101)).unwrap(),
            "counter 0x101 refused (cntr-low): the card's counter is 0x1ff (from its PoR), next counter 0x200"
        );
        // A PoR below what was sent cannot be the card's counter for cntr-low: no guess.
        let a = next_counter(c(9), Some(S::CounterLow), Some(c(0)));
        assert_eq!((a.card, a.next), (None, None));
        assert!(a
            .hint(S::CounterLow, c(9))
            .unwrap()
            .ends_with("the card's PoR did not give its counter"));
        // cntr-high (mode 11): the card's counter is below the one sent.
        let a = next_counter(c(53), Some(S::CounterHigh), Some(c(51)));
        assert_eq!(a.next, Some(c(52)));
        // Refused before the counter check: nothing learnt, no hint.
        let a = next_counter(c(5), Some(S::TarUnknown), Some(c(5)));
        assert_eq!(a.next, None);
        assert_eq!(a.hint(S::TarUnknown, c(5)), None);
    }

    #[test]
    fn read_write_round_trip_and_missing_file() {
        let dir = std::env::temp_dir().join(format!("simota-cntr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k.cntr");
        let _ = std::fs::remove_file(&p);
        assert_eq!(read(&p).unwrap(), None);
        write(&p, c(0x102)).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "0x0000000102\n");
        assert_eq!(read(&p).unwrap(), Some(c(0x102)));
        std::fs::write(&p, "12\n").unwrap();
        assert_eq!(read(&p).unwrap(), Some(c(12)));
        std::fs::write(&p, "twelve").unwrap();
        assert!(read(&p).unwrap_err().starts_with("counter file "));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
