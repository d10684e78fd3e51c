//! Tag values: BER-TLV templates (TS 102 223 §9.1, TS 101 220 §7.2) and COMPREHENSION-TLV
//! data object tags without the CR bit (TS 102 223 §9.3, TS 101 220 §7.2).

/// Proactive command template.
pub const PROACTIVE_COMMAND: u8 = 0xD0;
/// SMS-PP download template.
pub const SMS_PP_DOWNLOAD: u8 = 0xD1;
/// Cell broadcast download template.
pub const CB_DOWNLOAD: u8 = 0xD2;
/// Menu selection template.
pub const MENU_SELECTION: u8 = 0xD3;
/// Call control template.
pub const CALL_CONTROL: u8 = 0xD4;
/// MO short message control template.
pub const MO_SMS_CONTROL: u8 = 0xD5;
/// Event download template.
pub const EVENT_DOWNLOAD: u8 = 0xD6;
/// Timer expiration template.
pub const TIMER_EXPIRATION: u8 = 0xD7;

/// Command details.
pub const COMMAND_DETAILS: u8 = 0x01;
/// Device identities.
pub const DEVICE_IDENTITIES: u8 = 0x02;
/// Result.
pub const RESULT: u8 = 0x03;
/// Duration.
pub const DURATION: u8 = 0x04;
/// Alpha identifier.
pub const ALPHA_ID: u8 = 0x05;
/// Address.
pub const ADDRESS: u8 = 0x06;
/// SMS TPDU.
pub const SMS_TPDU: u8 = 0x0B;
/// Text string.
pub const TEXT_STRING: u8 = 0x0D;
/// Tone.
pub const TONE: u8 = 0x0E;
/// Item.
pub const ITEM: u8 = 0x0F;
/// Item identifier.
pub const ITEM_ID: u8 = 0x10;
/// Response length.
pub const RESPONSE_LENGTH: u8 = 0x11;
/// File list.
pub const FILE_LIST: u8 = 0x12;
/// Location information.
pub const LOCATION_INFO: u8 = 0x13;
/// IMEI.
pub const IMEI: u8 = 0x14;
/// Help request.
pub const HELP_REQUEST: u8 = 0x15;
/// Network measurement results.
pub const NMR: u8 = 0x16;
/// Default text.
pub const DEFAULT_TEXT: u8 = 0x17;
/// Items next action indicator.
pub const ITEMS_NEXT_ACTION: u8 = 0x18;
/// Event list.
pub const EVENT_LIST: u8 = 0x19;
/// Location status.
pub const LOCATION_STATUS: u8 = 0x1B;
/// Icon identifier.
pub const ICON_ID: u8 = 0x1E;
/// Item icon identifier list.
pub const ITEM_ICON_ID_LIST: u8 = 0x1F;
/// Date-time and time zone.
pub const DATE_TIME_TZ: u8 = 0x26;
/// Immediate response.
pub const IMMEDIATE_RESPONSE: u8 = 0x2B;
/// Language.
pub const LANGUAGE: u8 = 0x2D;
/// Timing advance.
pub const TIMING_ADVANCE: u8 = 0x2E;
/// AID.
pub const AID: u8 = 0x2F;
/// Access technology.
pub const ACCESS_TECHNOLOGY: u8 = 0x3F;
/// Text attribute.
pub const TEXT_ATTRIBUTE: u8 = 0x50;
/// Item text attribute list.
pub const ITEM_TEXT_ATTRIBUTE_LIST: u8 = 0x51;
/// Frame identifier.
pub const FRAME_ID: u8 = 0x68;
