//! ISO case-4 semantics over T=0 (ISO/IEC 7816-4 §5.3.2 and ETSI TS 102 221 §7.3.1.1.4):
//! `61xx` → GET RESPONSE with Le = xx (repeated while more data is announced, data
//! concatenated); `6Cxx` → the same command again with Le = xx. GSM `9Fxx` is treated like
//! `61xx` with class `A0`.

use crate::{split_response, ResetKind, Transport, TransportError};

/// Most GET RESPONSE rounds followed before giving up (a card looping on `61xx`).
const MAX_ROUNDS: usize = 64;

/// Wraps a transport and hides T=0 procedure bytes from the caller.
#[derive(Debug)]
pub struct T0Adapter<T> {
    inner: T,
}

impl<T: Transport> T0Adapter<T> {
    /// Wrap `inner`.
    pub fn new(inner: T) -> Self {
        T0Adapter { inner }
    }
    /// The wrapped transport.
    pub fn inner(&mut self) -> &mut T {
        &mut self.inner
    }
    /// Unwrap.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// The class byte for GET RESPONSE after a command sent with `cla`: GET RESPONSE is an
/// interindustry command (TS 102 221 §10.1.2, table 10.5), so keep the logical channel and
/// drop the proprietary, chaining and secure-messaging bits. `A0` stays `A0`.
pub fn get_response_class(cla: u8) -> u8 {
    match cla {
        0xA0 => 0xA0,
        0x00..=0x1F | 0x80..=0x8F => cla & 0x03,
        0x40..=0x7F | 0xC0..=0xFE => 0x40 | (cla & 0x0F),
        _ => cla,
    }
}

impl<T: Transport> Transport for T0Adapter<T> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if capdu.len() < 4 {
            return Err(TransportError::BadCommand(format!(
                "C-APDU of {} bytes has no header",
                capdu.len()
            )));
        }
        let cla = capdu[0];
        let mut resp = self.inner.transmit(capdu)?;
        let (_, sw) = split_response(&resp)?;
        if sw >> 8 == 0x6C {
            // Re-issue with the exact Le the card asked for (short form: replace/append P3).
            let le = (sw & 0xFF) as u8;
            let mut again = capdu.to_vec();
            match capdu.len() {
                4 => again.push(le),
                5 => again[4] = le,
                n if capdu[4] != 0 && n == 5 + capdu[4] as usize => again.push(le),
                n if capdu[4] != 0 && n == 6 + capdu[4] as usize => again[n - 1] = le,
                _ => return Ok(resp),
            }
            resp = self.inner.transmit(&again)?;
        }
        let mut data = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let (d, sw) = split_response(&resp)?;
            let sw1 = (sw >> 8) as u8;
            if sw1 != 0x61 && sw1 != 0x9F {
                data.extend_from_slice(d);
                data.extend_from_slice(&sw.to_be_bytes());
                return Ok(data);
            }
            data.extend_from_slice(d);
            let gr_cla = if sw1 == 0x9F {
                0xA0
            } else {
                get_response_class(cla)
            };
            resp = self.inner.transmit(&[gr_cla, 0xC0, 0, 0, sw as u8])?;
        }
        Err(TransportError::Protocol(format!(
            "card kept answering 61xx after {MAX_ROUNDS} GET RESPONSEs"
        )))
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        self.inner.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted card: checks each command it gets and answers from a queue.
    struct Scripted {
        steps: VecDeque<(Vec<u8>, Vec<u8>)>,
    }
    impl Transport for Scripted {
        fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
            let (want, resp) = self.steps.pop_front().expect("unexpected command");
            assert_eq!(c, want.as_slice());
            Ok(resp)
        }
        fn reset(&mut self, _: ResetKind) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn atr(&self) -> Vec<u8> {
            vec![0x3B, 0x00]
        }
        fn name(&self) -> String {
            "scripted".into()
        }
    }

    #[test]
    fn get_response_chain() {
        let card = Scripted {
            steps: VecDeque::from([
                (
                    vec![0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00],
                    vec![0x61, 0x03],
                ),
                (
                    vec![0x00, 0xC0, 0x00, 0x00, 0x03],
                    vec![1, 2, 3, 0x61, 0x01],
                ),
                (vec![0x00, 0xC0, 0x00, 0x00, 0x01], vec![4, 0x90, 0x00]),
            ]),
        };
        let mut t = T0Adapter::new(card);
        assert_eq!(
            t.transmit(&[0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00])
                .unwrap(),
            [1, 2, 3, 4, 0x90, 0]
        );
    }

    #[test]
    fn wrong_le_reissued() {
        let card = Scripted {
            steps: VecDeque::from([
                (vec![0x00, 0xB0, 0x00, 0x00, 0x00], vec![0x6C, 0x0A]),
                (
                    vec![0x00, 0xB0, 0x00, 0x00, 0x0A],
                    [vec![7; 10], vec![0x90, 0x00]].concat(),
                ),
            ]),
        };
        let mut t = T0Adapter::new(card);
        assert_eq!(
            t.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x00]).unwrap().len(),
            12
        );
    }

    #[test]
    fn channel_class_kept_and_gsm() {
        let card = Scripted {
            steps: VecDeque::from([
                (vec![0x81, 0xF2, 0x00, 0x00], vec![0x61, 0x01]),
                (vec![0x01, 0xC0, 0x00, 0x00, 0x01], vec![9, 0x90, 0x00]),
                (
                    vec![0xA0, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00],
                    vec![0x9F, 0x01],
                ),
                (vec![0xA0, 0xC0, 0x00, 0x00, 0x01], vec![8, 0x90, 0x00]),
                (vec![0x45, 0xB0, 0x00, 0x00, 0x00], vec![0x61, 0x01]),
                (vec![0x45, 0xC0, 0x00, 0x00, 0x01], vec![5, 0x90, 0x00]),
            ]),
        };
        let mut t = T0Adapter::new(card);
        assert_eq!(t.transmit(&[0x81, 0xF2, 0x00, 0x00]).unwrap(), [9, 0x90, 0]);
        assert_eq!(
            t.transmit(&[0xA0, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00])
                .unwrap(),
            [8, 0x90, 0]
        );
        assert_eq!(
            t.transmit(&[0x45, 0xB0, 0x00, 0x00, 0x00]).unwrap(),
            [5, 0x90, 0]
        );
    }

    #[test]
    fn case4_le_replaced_and_errors() {
        let card = Scripted {
            steps: VecDeque::from([
                (
                    vec![0x80, 0xCA, 0x00, 0x66, 0x01, 0xAA, 0x10],
                    vec![0x6C, 0x04],
                ),
                (
                    vec![0x80, 0xCA, 0x00, 0x66, 0x01, 0xAA, 0x04],
                    vec![1, 2, 3, 4, 0x90, 0x00],
                ),
                (vec![0x00, 0xB0, 0x00, 0x00], vec![0x90]),
            ]),
        };
        let mut t = T0Adapter::new(card);
        let r = t
            .transmit(&[0x80, 0xCA, 0x00, 0x66, 0x01, 0xAA, 0x10])
            .unwrap();
        assert_eq!(r, [1, 2, 3, 4, 0x90, 0x00]);
        // A 1-byte answer is a protocol error, not a panic.
        assert!(matches!(
            t.transmit(&[0x00, 0xB0, 0x00, 0x00]),
            Err(TransportError::Protocol(_))
        ));
        // Fewer than 4 bytes never reach the card.
        assert!(matches!(
            t.transmit(&[0x00, 0xB0]),
            Err(TransportError::BadCommand(_))
        ));
    }

    #[test]
    fn endless_61xx_is_an_error() {
        struct Looping;
        impl Transport for Looping {
            fn transmit(&mut self, _: &[u8]) -> Result<Vec<u8>, TransportError> {
                Ok(vec![0x61, 0x01])
            }
            fn reset(&mut self, _: ResetKind) -> Result<Vec<u8>, TransportError> {
                Ok(vec![0x3B, 0x00])
            }
            fn atr(&self) -> Vec<u8> {
                vec![0x3B, 0x00]
            }
            fn name(&self) -> String {
                "looping".into()
            }
        }
        let mut t = T0Adapter::new(Looping);
        assert!(matches!(
            t.transmit(&[0, 0xB0, 0, 0, 0]),
            Err(TransportError::Protocol(_))
        ));
        assert_eq!(get_response_class(0x84), 0x00);
        assert_eq!(get_response_class(0xE5), 0x45);
        assert_eq!(get_response_class(0x13), 0x03);
    }
}
