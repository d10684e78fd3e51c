//! TERMINAL PROFILE (TS 102 223 §5.2; 3GPP-specific bits from TS 31.111 §5.2): a bitmap
//! of the CAT facilities the terminal supports, one named bit per facility.

/// One facility bit: byte number (1-based, as in the spec) and mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileBit {
    /// Byte number, counting from 1.
    pub byte: u8,
    /// Bit mask within the byte.
    pub mask: u8,
    /// The facility's name.
    pub name: &'static str,
}

macro_rules! bits {
    ($($id:ident = ($b:expr, $m:expr, $n:expr);)*) => {
        $(
            #[doc = concat!("Byte ", stringify!($b), ", mask ", stringify!($m), ": ", $n, ".")]
            pub const $id: ProfileBit = ProfileBit { byte: $b, mask: $m, name: $n };
        )*
        /// Every named bit, in byte/bit order.
        pub const ALL: &[ProfileBit] = &[$($id),*];
    };
}

/// The named bits. Bytes 1–4 are confirmed by the shared digest (Wireshark tables); bytes
/// 5–12 follow TS 102 223 §5.2 as mirrored by handset and dissector tables.
pub mod bits {
    use super::ProfileBit;
    bits! {
        PROFILE_DOWNLOAD = (1, 0x01, "profile download");
        SMS_PP_DATA_DOWNLOAD = (1, 0x02, "SMS-PP data download");
        CB_DATA_DOWNLOAD = (1, 0x04, "cell broadcast data download");
        MENU_SELECTION = (1, 0x08, "menu selection");
        SIM_DATA_DOWNLOAD_ERROR = (1, 0x10, "9EXX response code for SIM data download error");
        TIMER_EXPIRATION = (1, 0x20, "timer expiration");
        USSD_IN_CALL_CONTROL = (1, 0x40, "USSD string data object in call control");
        CC_ON_AUTOMATIC_REDIAL = (1, 0x80, "call control envelope on automatic redial");
        COMMAND_RESULT = (2, 0x01, "command result");
        CALL_CONTROL = (2, 0x02, "call control by NAA");
        CALL_CONTROL_CELL_ID = (2, 0x04, "cell identity in call control by NAA");
        MO_SMS_CONTROL = (2, 0x08, "MO short message control by NAA");
        CALL_CONTROL_ALPHA = (2, 0x10, "alpha identifier handling in call control");
        UCS2_ENTRY = (2, 0x20, "UCS2 entry");
        UCS2_DISPLAY = (2, 0x40, "UCS2 display");
        DISPLAY_TEXT_EXTENSION = (2, 0x80, "display of the extension text");
        DISPLAY_TEXT = (3, 0x01, "DISPLAY TEXT");
        GET_INKEY = (3, 0x02, "GET INKEY");
        GET_INPUT = (3, 0x04, "GET INPUT");
        MORE_TIME = (3, 0x08, "MORE TIME");
        PLAY_TONE = (3, 0x10, "PLAY TONE");
        POLL_INTERVAL = (3, 0x20, "POLL INTERVAL");
        POLLING_OFF = (3, 0x40, "POLLING OFF");
        REFRESH = (3, 0x80, "REFRESH");
        SELECT_ITEM = (4, 0x01, "SELECT ITEM");
        SEND_SHORT_MESSAGE = (4, 0x02, "SEND SHORT MESSAGE");
        SEND_SS = (4, 0x04, "SEND SS");
        SEND_USSD = (4, 0x08, "SEND USSD");
        SET_UP_CALL = (4, 0x10, "SET UP CALL");
        SET_UP_MENU = (4, 0x20, "SET UP MENU");
        PLI_LOCATION_IMEI = (4, 0x40, "PROVIDE LOCAL INFORMATION (MCC, MNC, LAC, cell ID, IMEI)");
        PLI_NMR = (4, 0x80, "PROVIDE LOCAL INFORMATION (NMR)");
        SET_UP_EVENT_LIST = (5, 0x01, "SET UP EVENT LIST");
        EVENT_MT_CALL = (5, 0x02, "event: MT call");
        EVENT_CALL_CONNECTED = (5, 0x04, "event: call connected");
        EVENT_CALL_DISCONNECTED = (5, 0x08, "event: call disconnected");
        EVENT_LOCATION_STATUS = (5, 0x10, "event: location status");
        EVENT_USER_ACTIVITY = (5, 0x20, "event: user activity");
        EVENT_IDLE_SCREEN = (5, 0x40, "event: idle screen available");
        EVENT_CARD_READER_STATUS = (5, 0x80, "event: card reader status");
        EVENT_LANGUAGE_SELECTION = (6, 0x01, "event: language selection");
        EVENT_BROWSER_TERMINATION = (6, 0x02, "event: browser termination");
        EVENT_DATA_AVAILABLE = (6, 0x04, "event: data available");
        EVENT_CHANNEL_STATUS = (6, 0x08, "event: channel status");
        POWER_ON_CARD = (7, 0x01, "POWER ON CARD");
        POWER_OFF_CARD = (7, 0x02, "POWER OFF CARD");
        PERFORM_CARD_APDU = (7, 0x04, "PERFORM CARD APDU");
        GET_READER_STATUS = (7, 0x08, "GET READER STATUS (card reader status)");
        GET_READER_ID = (7, 0x10, "GET READER STATUS (card reader identifier)");
        TIMER_START_STOP = (8, 0x01, "TIMER MANAGEMENT (start, stop)");
        TIMER_GET_VALUE = (8, 0x02, "TIMER MANAGEMENT (get current value)");
        PLI_DATE_TIME = (8, 0x04, "PROVIDE LOCAL INFORMATION (date, time and time zone)");
        GET_INKEY_BINARY = (8, 0x08, "binary choice in GET INKEY");
        SET_UP_IDLE_MODE_TEXT = (8, 0x10, "SET UP IDLE MODE TEXT");
        RUN_AT_COMMAND = (8, 0x20, "RUN AT COMMAND");
        SET_UP_CALL_ALPHA2 = (8, 0x40, "2nd alpha identifier in SET UP CALL");
        CALL_CONTROL_CCP2 = (8, 0x80, "2nd capability configuration parameter");
        SUSTAINED_DISPLAY_TEXT = (9, 0x01, "sustained DISPLAY TEXT");
        SEND_DTMF = (9, 0x02, "SEND DTMF");
        PLI_BCCH = (9, 0x04, "PROVIDE LOCAL INFORMATION (BCCH channel list)");
        PLI_LANGUAGE = (9, 0x08, "PROVIDE LOCAL INFORMATION (language)");
        PLI_TIMING_ADVANCE = (9, 0x10, "PROVIDE LOCAL INFORMATION (timing advance)");
        LANGUAGE_NOTIFICATION = (9, 0x20, "LANGUAGE NOTIFICATION");
        LAUNCH_BROWSER = (9, 0x40, "LAUNCH BROWSER");
        PLI_ACCESS_TECHNOLOGY = (9, 0x80, "PROVIDE LOCAL INFORMATION (access technology)");
        SOFT_KEYS_SELECT_ITEM = (10, 0x01, "soft keys for SELECT ITEM");
        SOFT_KEYS_SET_UP_MENU = (10, 0x02, "soft keys for SET UP MENU");
        OPEN_CHANNEL = (12, 0x01, "OPEN CHANNEL");
        CLOSE_CHANNEL = (12, 0x02, "CLOSE CHANNEL");
        RECEIVE_DATA = (12, 0x04, "RECEIVE DATA");
        SEND_DATA = (12, 0x08, "SEND DATA");
        GET_CHANNEL_STATUS = (12, 0x10, "GET CHANNEL STATUS");
    }
}

/// A TERMINAL PROFILE bitmap.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TerminalProfile(pub Vec<u8>);

impl TerminalProfile {
    /// The profile of the `terminal` simulator: every facility it answers itself (downloads:
    /// profile, SMS-PP, menu selection, 9EXX; command result; UCS2 entry and display; DISPLAY
    /// TEXT, GET INKEY, GET INPUT, MORE TIME, PLAY TONE, POLL INTERVAL, POLLING OFF, REFRESH,
    /// SELECT ITEM, SEND SHORT MESSAGE, SET UP MENU, PROVIDE LOCAL INFORMATION (location,
    /// IMEI, date-time, language), SET UP EVENT LIST with user activity / idle screen /
    /// language selection, binary GET INKEY, sustained DISPLAY TEXT), 20 bytes long.
    pub fn simulator_default() -> Self {
        use bits::*;
        let mut p = TerminalProfile(vec![0; 20]);
        for b in [
            PROFILE_DOWNLOAD,
            SMS_PP_DATA_DOWNLOAD,
            MENU_SELECTION,
            SIM_DATA_DOWNLOAD_ERROR,
            COMMAND_RESULT,
            UCS2_ENTRY,
            UCS2_DISPLAY,
            DISPLAY_TEXT,
            GET_INKEY,
            GET_INPUT,
            MORE_TIME,
            PLAY_TONE,
            POLL_INTERVAL,
            POLLING_OFF,
            REFRESH,
            SELECT_ITEM,
            SEND_SHORT_MESSAGE,
            SET_UP_MENU,
            PLI_LOCATION_IMEI,
            SET_UP_EVENT_LIST,
            EVENT_USER_ACTIVITY,
            EVENT_IDLE_SCREEN,
            EVENT_LANGUAGE_SELECTION,
            PLI_DATE_TIME,
            GET_INKEY_BINARY,
            SUSTAINED_DISPLAY_TEXT,
            PLI_LANGUAGE,
        ] {
            p.set(b, true);
        }
        p
    }

    /// Whether the facility bit is set (bits beyond the bitmap are unset).
    pub fn has(&self, bit: ProfileBit) -> bool {
        let i = usize::from(bit.byte).wrapping_sub(1);
        self.0.get(i).is_some_and(|b| b & bit.mask != 0)
    }

    /// Set or clear a bit, growing the bitmap as needed.
    pub fn set(&mut self, bit: ProfileBit, on: bool) {
        let i = usize::from(bit.byte.max(1)) - 1;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        if on {
            self.0[i] |= bit.mask;
        } else {
            self.0[i] &= !bit.mask;
        }
    }

    /// The names of the set bits this codec knows.
    pub fn names(&self) -> Vec<&'static str> {
        bits::ALL
            .iter()
            .filter(|b| self.has(**b))
            .map(|b| b.name)
            .collect()
    }

    /// The bitmap bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_named_and_round_trip() {
        let p = TerminalProfile::simulator_default();
        assert_eq!(p.0.len(), 20);
        assert_eq!(p.0[0], 0x1B);
        assert_eq!(p.0[2], 0xFF);
        assert!(p.has(bits::SEND_SHORT_MESSAGE) && !p.has(bits::SEND_SS));
        assert!(p.names().contains(&"SMS-PP data download"));
        let mut q = TerminalProfile::default();
        q.set(bits::GET_CHANNEL_STATUS, true);
        assert_eq!(q.0, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]);
        q.set(bits::GET_CHANNEL_STATUS, false);
        assert!(!q.has(bits::GET_CHANNEL_STATUS));
        assert!(!q.has(ProfileBit {
            byte: 0,
            mask: 1,
            name: "x"
        }));
    }
}
