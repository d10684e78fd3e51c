//! A card's non-volatile state stored as its difference from a template state: what a
//! touched but idle card costs in memory is what changed on it, not a whole card.
//!
//! Both states are taken as JSON values (the `uicc` state-file form,
//! [`uicc::NvState::to_bytes`]); the delta is the list of JSON Pointer paths (RFC 6901)
//! whose value differs, each with its new value, or without one when the key is gone.
//! Objects are compared key by key and arrays of equal length element by element; an
//! array whose length changed is replaced whole. The encoding is compact JSON:
//! `[["/files/12/data","3F00…"],["/applets/0"]]`.

use serde_json::Value;

/// Append to `out` the operations turning `base` into `new` at `path`.
fn diff(base: &Value, new: &Value, path: &mut String, out: &mut Vec<Value>) {
    match (base, new) {
        (Value::Object(b), Value::Object(n)) => {
            for (k, nv) in n {
                let len = path.len();
                push_key(path, k);
                match b.get(k) {
                    Some(bv) => diff(bv, nv, path, out),
                    None => out.push(Value::Array(vec![path.clone().into(), nv.clone()])),
                }
                path.truncate(len);
            }
            for k in b.keys().filter(|k| !n.contains_key(*k)) {
                let len = path.len();
                push_key(path, k);
                out.push(Value::Array(vec![path.clone().into()]));
                path.truncate(len);
            }
        }
        (Value::Array(b), Value::Array(n)) if b.len() == n.len() => {
            for (i, (bv, nv)) in b.iter().zip(n).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                diff(bv, nv, path, out);
                path.truncate(len);
            }
        }
        _ if base == new => {}
        _ => out.push(Value::Array(vec![path.clone().into(), new.clone()])),
    }
}

fn push_key(path: &mut String, k: &str) {
    path.push('/');
    for c in k.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

/// The delta from `template` to `state`, encoded.
pub fn encode(template: &Value, state: &uicc::NvState) -> Result<Vec<u8>, String> {
    let new = serde_json::to_value(state).map_err(|e| e.to_string())?;
    let mut ops = Vec::new();
    diff(template, &new, &mut String::new(), &mut ops);
    serde_json::to_vec(&Value::Array(ops)).map_err(|e| e.to_string())
}

/// A template kept both ways: as JSON (what [`decode`] applies deltas to) and as an
/// `NvState`, so that [`Template::encode`] finds the unchanged parts of a state by comparing
/// Rust values and converts only what differs to JSON (the whole state as a JSON tree is
/// ≈ 58 KB of strings; a card that took an RFM command changed two files and a counter).
pub struct Template {
    /// The template as JSON.
    pub value: Value,
    state: uicc::NvState,
}

impl Template {
    /// The template `value` (a state in JSON form).
    pub fn new(value: Value) -> Result<Template, String> {
        let state = serde_json::from_value(value.clone()).map_err(|e| format!("template: {e}"))?;
        Ok(Template { value, state })
    }

    /// The template `state`.
    pub fn of(state: &uicc::NvState) -> Result<Template, String> {
        Template::new(serde_json::to_value(state).map_err(|e| e.to_string())?)
    }

    /// The delta from this template to `state`: the same operations as [`encode`] gives.
    pub fn encode(&self, state: &uicc::NvState) -> Result<Vec<u8>, String> {
        // Every field, by name: a field added to NvState fails to compile here until it is
        // handled.
        let uicc::NvState {
            format,
            profile_fingerprint,
            files,
            pins,
            auth,
            ota,
            applets,
            isd,
        } = state;
        let t = &self.state;
        let mut ops = Vec::new();
        let mut path = String::new();
        let field = |ops: &mut Vec<Value>,
                     path: &mut String,
                     name: &str,
                     changed: bool,
                     new: Result<Value, serde_json::Error>| {
            if !changed {
                return Ok(());
            }
            let new = new.map_err(|e| e.to_string())?;
            let base = self.value.get(name).unwrap_or(&Value::Null);
            path.clear();
            push_key(path, name);
            diff(base, &new, path, ops);
            Ok::<(), String>(())
        };
        field(
            &mut ops,
            &mut path,
            "format",
            *format != t.format,
            serde_json::to_value(format),
        )?;
        field(
            &mut ops,
            &mut path,
            "profile_fingerprint",
            *profile_fingerprint != t.profile_fingerprint,
            serde_json::to_value(profile_fingerprint),
        )?;
        if files.len() == t.files.len() {
            let base = self.value.get("files").and_then(Value::as_array);
            for (i, (a, b)) in t.files.iter().zip(files).enumerate() {
                if a == b {
                    continue;
                }
                let new = serde_json::to_value(b).map_err(|e| e.to_string())?;
                let mut p = format!("/files/{i}");
                match base.and_then(|v| v.get(i)) {
                    Some(bv) => diff(bv, &new, &mut p, &mut ops),
                    None => ops.push(Value::Array(vec![p.into(), new])),
                }
            }
        } else {
            field(
                &mut ops,
                &mut path,
                "files",
                true,
                serde_json::to_value(files),
            )?;
        }
        field(
            &mut ops,
            &mut path,
            "pins",
            *pins != t.pins,
            serde_json::to_value(pins),
        )?;
        field(
            &mut ops,
            &mut path,
            "auth",
            *auth != t.auth,
            serde_json::to_value(auth),
        )?;
        field(
            &mut ops,
            &mut path,
            "ota",
            *ota != t.ota,
            serde_json::to_value(ota),
        )?;
        field(
            &mut ops,
            &mut path,
            "applets",
            *applets != t.applets,
            serde_json::to_value(applets),
        )?;
        field(
            &mut ops,
            &mut path,
            "isd",
            *isd != t.isd,
            serde_json::to_value(isd),
        )?;
        serde_json::to_vec(&Value::Array(ops)).map_err(|e| e.to_string())
    }
}

/// The state `delta` (from [`encode`]) describes on top of `template`.
pub fn decode(template: &Value, delta: &[u8]) -> Result<uicc::NvState, String> {
    let ops: Vec<Value> = serde_json::from_slice(delta).map_err(|e| format!("delta: {e}"))?;
    let mut v = template.clone();
    for (k, op) in ops.iter().enumerate() {
        let (path, value) = match op.as_array().map(Vec::as_slice) {
            Some([Value::String(p), x]) => (p.as_str(), Some(x)),
            Some([Value::String(p)]) => (p.as_str(), None),
            _ => return Err(format!("delta operation {k}: not [path, value] or [path]")),
        };
        if path.is_empty() {
            v = value.cloned().unwrap_or(Value::Null);
            continue;
        }
        let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
        let key = key.replace("~1", "/").replace("~0", "~");
        let Some(p) = v.pointer_mut(parent) else {
            return Err(format!(
                "delta operation {k}: no {parent:?} in the template"
            ));
        };
        match (p, value) {
            (Value::Object(m), Some(x)) => {
                m.insert(key, x.clone());
            }
            (Value::Object(m), None) => {
                m.remove(&key);
            }
            (Value::Array(a), Some(x)) => {
                match key.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                    Some(slot) => *slot = x.clone(),
                    None => return Err(format!("delta operation {k}: no element {path:?}")),
                }
            }
            _ => return Err(format!("delta operation {k}: cannot apply at {path:?}")),
        }
    }
    serde_json::from_value(v).map_err(|e| format!("delta: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_holds_only_the_changes() {
        let p = uicc::Profile::default_profile();
        let base = p.initial_state().clone();
        let template = serde_json::to_value(&base).unwrap();
        let same = encode(&template, &base).unwrap();
        assert_eq!(same, b"[]");
        // Another card: its own identity files.
        let other = smsc_profile(7);
        let st = other.initial_state().clone();
        let d = encode(&template, &st).unwrap();
        assert!(
            d.len() < 1024,
            "{} bytes: {}",
            d.len(),
            String::from_utf8_lossy(&d)
        );
        assert_eq!(decode(&template, &d).unwrap().to_bytes(), st.to_bytes());
        // A bad delta is an error, not a panic.
        for bad in [
            &b"{"[..],
            b"[1]",
            b"[[\"/nope/x\",1]]",
            b"[[\"/files/99999\",1]]",
        ] {
            assert!(decode(&template, bad).is_err());
        }
    }

    #[test]
    fn the_template_encoder_gives_the_same_deltas() {
        let base = smsc_profile(0).initial_state().clone();
        let t = Template::of(&base).unwrap();
        let mut changed = smsc_profile(9).initial_state().clone();
        assert_eq!(t.encode(&base).unwrap(), b"[]");
        for st in [&changed.clone(), &{
            changed.files.truncate(3);
            changed.pins.clear();
            changed.profile_fingerprint = "other".into();
            changed
        }] {
            let fast = t.encode(st).unwrap();
            let ops = |b: &[u8]| {
                let v: Vec<Value> = serde_json::from_slice(b).unwrap();
                let mut v: Vec<String> = v.iter().map(Value::to_string).collect();
                v.sort();
                v
            };
            assert_eq!(ops(&fast), ops(&encode(&t.value, st).unwrap()));
            assert_eq!(decode(&t.value, &fast).unwrap().to_bytes(), st.to_bytes());
        }
    }

    #[test]
    fn keys_with_slashes_and_removed_keys() {
        let a = serde_json::json!({"m": {"a/b": 1, "c~": 2, "gone": 3}, "v": [1, 2]});
        let b = serde_json::json!({"m": {"a/b": 5, "c~": 2, "new": 4}, "v": [1, 2, 3]});
        let mut ops = Vec::new();
        diff(&a, &b, &mut String::new(), &mut ops);
        assert_eq!(
            Value::Array(ops).to_string(),
            r#"[["/m/a~1b",5],["/m/new",4],["/m/gone"],["/v",[1,2,3]]]"#
        );
    }

    fn smsc_profile(i: u64) -> uicc::Profile {
        crate::CardIdentity::new(i, 491_700_000_000)
            .profile(&uicc::Profile::default_profile())
            .unwrap()
    }
}
