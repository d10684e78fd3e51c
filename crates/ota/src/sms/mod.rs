//! 3GPP TS 23.040 short message pieces needed for SMS-PP OTA: [`address`] (TP-OA/TP-DA),
//! [`udh`] (User Data Header IEs), [`tpdu`] (SMS-DELIVER, SMS-SUBMIT, SMS-DELIVER-REPORT,
//! DCS, SCTS, VP) and [`concat`](mod@concat) (concatenation split/reassembly for command packets and
//! PoRs).

pub mod address;
pub mod concat;
pub mod tpdu;
pub mod udh;

pub use address::{AddressValue, SmsAddress};
pub use concat::{reassemble, split, split_command, ConcatRef, Reassembled, Reassembler};
pub use tpdu::{
    Charset, Dcs, SmsDeliver, SmsDeliverReport, SmsSubmit, Timestamp, Tpdu, ValidityPeriod,
};
pub use udh::{InformationElement, Udh};
