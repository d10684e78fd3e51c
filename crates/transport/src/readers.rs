//! Picking a PC/SC reader from a `NAME|INDEX` argument (PC/SC part 5 `SCardListReaders`
//! order): an index, an exact name, or a unique case-insensitive part of a name. Pure, so it
//! is the same with or without the `pcsc` feature.

use crate::TransportError;

/// The reader `spec` names among `readers` (in `SCardListReaders` order): an index into the
/// list, an exact name, or a case-insensitive substring of exactly one name. A spec that
/// names no reader is [`TransportError::NoSuchReader`], which lists the readers present.
pub fn resolve_reader_in(spec: &str, readers: &[String]) -> Result<String, TransportError> {
    let none = |why: String| TransportError::NoSuchReader {
        spec: spec.to_string(),
        why,
        readers: readers.to_vec(),
    };
    if readers.is_empty() {
        return Err(none("PC/SC lists no readers (is pcscd running?)".into()));
    }
    if let Ok(i) = spec.trim().parse::<usize>() {
        return readers.get(i).cloned().ok_or_else(|| {
            none(format!(
                "index {i} is out of range: {} reader(s), indexes 0..={}",
                readers.len(),
                readers.len() - 1
            ))
        });
    }
    if let Some(r) = readers.iter().find(|r| *r == spec) {
        return Ok(r.clone());
    }
    let low = spec.to_lowercase();
    let hits: Vec<&String> = readers
        .iter()
        .filter(|r| r.to_lowercase().contains(&low))
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(none("no reader's name contains it".into())),
        many => Err(none(format!(
            "ambiguous: it is part of {} reader names ({}); give more of the name or the index",
            many.len(),
            many.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The readers for an error message: `0: "A", 1: "B"` (index as `simota readers` shows it),
/// or `none`.
pub(crate) fn list_text(readers: &[String]) -> String {
    if readers.is_empty() {
        return "none".into();
    }
    readers
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{i}: {r:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readers() -> Vec<String> {
        vec![
            "Virtual PCD 00 00".to_string(),
            "Virtual PCD 00 01".to_string(),
            "Gemalto USB 01 00".to_string(),
        ]
    }

    fn no_such(spec: &str, r: &[String]) -> String {
        match resolve_reader_in(spec, r) {
            Err(e @ TransportError::NoSuchReader { .. }) => e.to_string(),
            other => panic!("{spec}: {other:?}"),
        }
    }

    #[test]
    fn picks_by_index_name_and_unique_part() {
        let r = readers();
        assert_eq!(resolve_reader_in("1", &r).unwrap(), "Virtual PCD 00 01");
        assert_eq!(
            resolve_reader_in("Virtual PCD 00 00", &r).unwrap(),
            "Virtual PCD 00 00"
        );
        assert_eq!(
            resolve_reader_in("gemalto", &r).unwrap(),
            "Gemalto USB 01 00"
        );
    }

    #[test]
    fn readers_that_never_existed_are_not_gone_and_the_present_ones_are_named() {
        let r = readers();
        let all = r#"readers present: 0: "Virtual PCD 00 00", 1: "Virtual PCD 00 01", 2: "Gemalto USB 01 00""#;
        for (spec, why) in [
            ("7", "index 7 is out of range: 3 reader(s), indexes 0..=2"),
            ("omnikey", "no reader's name contains it"),
            ("virtual", "ambiguous: it is part of 2 reader names"),
        ] {
            let e = no_such(spec, &r);
            assert!(!e.contains("reader gone"), "{e}");
            assert!(
                e.starts_with(&format!("no such reader {spec:?}: {why}")),
                "{e}"
            );
            assert!(e.ends_with(all), "{e}");
        }
        let e = no_such("0", &[]);
        assert!(
            e.contains("PC/SC lists no readers") && e.ends_with("readers present: none"),
            "{e}"
        );
    }
}
