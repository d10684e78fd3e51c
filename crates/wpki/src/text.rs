//! Built-in dialogue texts of the applet in its four languages (en, de, fr, es). Key groups can
//! override some of them per language (PROTOCOL.md §5.9, [`crate::protocol::GroupText`]).

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// GET INPUT prompt for the PIN.
    EnterPin,
    /// GET INPUT prompt for the current PIN before a change.
    OldPin,
    /// GET INPUT prompt for a new PIN.
    NewPin,
    /// GET INPUT prompt repeating the new PIN.
    RepeatPin,
    /// GET INPUT prompt for the PUK.
    EnterPuk,
    /// DISPLAY TEXT prefix of the generated PUK.
    YourPuk,
    /// Default text shown before an authentication.
    ConfirmAuthn,
    /// Default text shown before a decryption.
    ConfirmDecrypt,
    /// Default text shown before a certification request.
    ConfirmPop,
    /// Result: PIN changed.
    PinChanged,
    /// Result: PIN activated (first PIN set).
    PinActivated,
    /// Result: PIN unblocked with the PUK (new PIN set).
    PinUnblocked,
    /// Result: nothing was entered (no try used).
    NothingEntered,
    /// Result: wrong PIN (tries follow).
    WrongPin,
    /// Result: PIN blocked.
    PinBlocked,
    /// Result: the two new PIN entries differ.
    PinMismatch,
    /// Result: wrong PUK.
    WrongPuk,
    /// Result: nothing to do / not activated.
    NotAvailable,
    /// Menu title.
    MenuTitle,
    /// Menu item: change PIN.
    MenuChange,
    /// Menu item: unblock PIN.
    MenuUnblock,
    /// Menu item: activate PIN.
    MenuActivate,
    /// Menu item: language.
    MenuLanguage,
    /// Title of the key group choice.
    ChooseGroup,
    /// Word for "key group" (when a group has no name).
    Group,
}

/// The languages with built-in texts, in menu order.
pub const LANGUAGES: [([u8; 2], &str); 4] = [
    (*b"en", "English"),
    (*b"de", "Deutsch"),
    (*b"fr", "Français"),
    (*b"es", "Español"),
];

/// The built-in text of `m` in `lang` (English for an unknown language).
pub fn text(lang: [u8; 2], m: Msg) -> &'static str {
    use Msg::*;
    let t: [&str; 4] = match m {
        EnterPin => [
            "Enter PIN",
            "PIN eingeben",
            "Entrez le code PIN",
            "Introduzca el PIN",
        ],
        OldPin => [
            "Current PIN",
            "Aktuelle PIN",
            "Code PIN actuel",
            "PIN actual",
        ],
        NewPin => [
            "New PIN (4-8 digits)",
            "Neue PIN (4-8 Ziffern)",
            "Nouveau code PIN (4-8 chiffres)",
            "Nuevo PIN (4-8 cifras)",
        ],
        RepeatPin => [
            "Repeat new PIN",
            "Neue PIN wiederholen",
            "Répétez le nouveau code PIN",
            "Repita el nuevo PIN",
        ],
        EnterPuk => [
            "Enter PUK",
            "PUK eingeben",
            "Entrez le code PUK",
            "Introduzca el PUK",
        ],
        YourPuk => [
            "Your PUK, keep it safe:",
            "Ihre PUK, gut aufbewahren:",
            "Votre code PUK, à conserver :",
            "Su PUK, guárdelo:",
        ],
        ConfirmAuthn => ["Log in?", "Anmelden?", "Se connecter ?", "¿Iniciar sesión?"],
        ConfirmDecrypt => [
            "Decrypt message?",
            "Nachricht entschlüsseln?",
            "Déchiffrer le message ?",
            "¿Descifrar el mensaje?",
        ],
        ConfirmPop => [
            "Create certificate request for",
            "Zertifikatsantrag erstellen für",
            "Créer une demande de certificat pour",
            "Crear solicitud de certificado para",
        ],
        PinChanged => [
            "PIN changed",
            "PIN geändert",
            "Code PIN modifié",
            "PIN cambiado",
        ],
        PinActivated => [
            "PIN activated",
            "PIN aktiviert",
            "Code PIN activé",
            "PIN activado",
        ],
        PinUnblocked => [
            "PIN unblocked",
            "PIN entsperrt",
            "Code PIN débloqué",
            "PIN desbloqueado",
        ],
        NothingEntered => [
            "Nothing entered",
            "Nichts eingegeben",
            "Rien n'a été saisi",
            "No se introdujo nada",
        ],
        WrongPin => [
            "Wrong PIN, tries left:",
            "Falsche PIN, verbleibende Versuche:",
            "Code PIN erroné, essais restants :",
            "PIN incorrecto, intentos restantes:",
        ],
        PinBlocked => [
            "PIN blocked",
            "PIN gesperrt",
            "Code PIN bloqué",
            "PIN bloqueado",
        ],
        PinMismatch => [
            "The PINs differ",
            "Die PINs stimmen nicht überein",
            "Les codes PIN diffèrent",
            "Los PIN no coinciden",
        ],
        WrongPuk => [
            "Wrong PUK, tries left:",
            "Falsche PUK, verbleibende Versuche:",
            "Code PUK erroné, essais restants :",
            "PUK incorrecto, intentos restantes:",
        ],
        NotAvailable => [
            "Not available",
            "Nicht verfügbar",
            "Non disponible",
            "No disponible",
        ],
        MenuTitle => ["Mobile ID", "Mobile ID", "Mobile ID", "Mobile ID"],
        MenuChange => [
            "Change PIN",
            "PIN ändern",
            "Modifier le code PIN",
            "Cambiar PIN",
        ],
        MenuUnblock => [
            "Unblock PIN",
            "PIN entsperren",
            "Débloquer le code PIN",
            "Desbloquear PIN",
        ],
        MenuActivate => [
            "Activate PIN",
            "PIN aktivieren",
            "Activer le code PIN",
            "Activar PIN",
        ],
        MenuLanguage => ["Language", "Sprache", "Langue", "Idioma"],
        ChooseGroup => [
            "Choose key",
            "Schlüssel wählen",
            "Choisir la clé",
            "Elegir clave",
        ],
        Group => ["Key", "Schlüssel", "Clé", "Clave"],
    };
    let i = LANGUAGES.iter().position(|(l, _)| *l == lang).unwrap_or(0);
    t.get(i).copied().unwrap_or(t[0])
}

/// Whether a menu session that ended showing `shown` succeeded: `Some(true)` for the success
/// messages (PIN changed / activated / unblocked), `Some(false)` for the failure messages, in
/// any built-in language; `None` for other texts.
pub fn menu_outcome(shown: &str) -> Option<bool> {
    use Msg::*;
    let is = |m: Msg| {
        LANGUAGES
            .iter()
            .any(|(l, _)| shown == text(*l, m) || shown.starts_with(&format!("{} ", text(*l, m))))
    };
    if [PinChanged, PinActivated, PinUnblocked].into_iter().any(is) {
        return Some(true);
    }
    if [
        WrongPin,
        WrongPuk,
        PinBlocked,
        PinMismatch,
        NotAvailable,
        NothingEntered,
    ]
    .into_iter()
    .any(is)
    {
        return Some(false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn unknown_language_falls_back_to_english() {
        assert_eq!(text(*b"xx", Msg::EnterPin), "Enter PIN");
        assert_eq!(text(*b"de", Msg::EnterPin), "PIN eingeben");
    }
}
