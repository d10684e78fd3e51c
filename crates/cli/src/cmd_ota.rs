//! `simota ota build | parse | por`: SCP80 secured packets over SMS-PP (TS 102 225,
//! TS 31.115, TS 102 226, TS 23.040), built on the `ota` crate.

use crate::error::{hex_arg, CliError};
use apdu::hex::encode as hx;
use clap::{Args, Subcommand, ValueEnum};
use ota::command::IntegrityCheck;
use ota::keyfile::{parse_counter, KeysetFile};
use ota::remote::{RemoteResponse, RemoteScript, ScriptCommand, ScriptResponse};
use ota::sms::udh::{
    InformationElement, Udh, IEI_COMMAND_PACKET, IEI_CONCAT_16, IEI_CONCAT_8, IEI_RESPONSE_PACKET,
};
use ota::sms::{
    reassemble, split, split_command, ConcatRef, SmsAddress, SmsDeliver, SmsSubmit, Timestamp, Tpdu,
};
use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, IntegrityOutcome, Keyset, OtaError,
    PorSecurity, ResponsePacket, ResponseStatus, SecuredCommand, SecuredResponse, SmsPpDownload,
    Spi, Tar,
};
use serde_json::{json, Map, Value};
use std::process::ExitCode;

/// `simota ota …`
#[derive(Debug, Args)]
pub struct OtaArgs {
    #[command(subcommand)]
    cmd: OtaCmd,
}

#[derive(Debug, Subcommand)]
enum OtaCmd {
    /// Build a secured command packet (and its SMS/ENVELOPE wrapping).
    Build(BuildArgs),
    /// Dissect a command packet, TP-UD, SMS TPDU, ENVELOPE or PoR; decipher and verify.
    Parse(ParseArgs),
    /// Build a response packet (Proof of Receipt).
    Por(PorArgs),
    /// Deliver an OTA message through the terminal simulator and print the PoR.
    Send(crate::cmd_ota_send::SendArgs),
}

/// Key options shared by all subcommands.
#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// Ciphering algorithm: none | des-cbc | 3des2 | 3des3 | des-ecb | aes-cbc [default: none]
    #[arg(long)]
    kic_alg: Option<String>,
    /// Ciphering key (hex).
    #[arg(long)]
    kic: Option<String>,
    /// Ciphering key index / KVN (0–15) [default: 0]
    #[arg(long)]
    kic_index: Option<u8>,
    /// RC/CC algorithm: none | des-mac | 3des2-mac | 3des3-mac | aes-cmac | crc16 | crc32
    /// [default: none]
    #[arg(long)]
    kid_alg: Option<String>,
    /// RC/CC key (hex; none for CRCs).
    #[arg(long)]
    kid: Option<String>,
    /// RC/CC key index / KVN (0–15) [default: 0]
    #[arg(long)]
    kid_index: Option<u8>,
    /// TOML file with `[keyset.NAME]` tables.
    #[arg(long, requires = "keyset")]
    pub(crate) keyset_file: Option<String>,
    /// Keyset name in --keyset-file.
    #[arg(long, requires = "keyset_file")]
    pub(crate) keyset: Option<String>,
}

impl KeyArgs {
    /// Whether any key option was given (else a caller may default to the card's keys).
    pub(crate) fn given(&self) -> bool {
        self.kic_alg.is_some()
            || self.kic.is_some()
            || self.kic_index.is_some()
            || self.kid_alg.is_some()
            || self.kid.is_some()
            || self.kid_index.is_some()
            || self.keyset_file.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BuildFormat {
    /// TP-UD of each SMS segment (starting with the UDH).
    Ud,
    /// The command packet from CPL on.
    Packet,
    /// SMS-DELIVER TPDUs (PID 7F, DCS F6).
    Tpdu,
    /// ENVELOPE (SMS-PP DOWNLOAD) C-APDUs.
    Envelope,
}

#[derive(Debug, Args)]
struct BuildArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// SPI, 2 bytes hex (e.g. 1619).
    #[arg(long)]
    spi: String,
    /// TAR, 3 bytes hex (e.g. B00010).
    #[arg(long)]
    tar: String,
    /// CNTR, decimal or 0x hex [default: the keyset file's counter, else 0]
    #[arg(long)]
    counter: Option<String>,
    /// Secured data (for RFM/RAM, the remote APDU script), hex.
    #[arg(long)]
    data: String,
    /// Output form.
    #[arg(long, value_enum, default_value = "ud")]
    format: BuildFormat,
    /// Concatenation reference when the packet needs several SMS (above 255: 16-bit IE 08).
    #[arg(long, default_value_t = 1)]
    concat_ref: u16,
    /// TP-OA digits for --format tpdu/envelope (TON unknown, NPI ISDN).
    #[arg(long, default_value = "12345678")]
    oa: String,
    /// TP-SCTS for --format tpdu/envelope, 7 bytes hex.
    #[arg(long, default_value = "22705200000000")]
    scts: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ParseArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// SPI, 2 bytes hex: needed for PoRs (which do not carry it); ignored for commands.
    #[arg(long)]
    spi: Option<String>,
    /// The bytes, hex; several values are concatenated SMS segments (TP-UDs or TPDUs).
    #[arg(required = true)]
    hex: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PorFormat {
    /// TP-UD (starting with 02 71 00).
    Ud,
    /// SMS-SUBMIT TPDU(s) (PoR via SMS-SUBMIT).
    Submit,
}

#[derive(Debug, Args)]
struct PorArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// SPI of the command being answered, 2 bytes hex (SPI2 gives the PoR security).
    #[arg(long)]
    spi: String,
    /// TAR, 3 bytes hex.
    #[arg(long)]
    tar: String,
    /// CNTR to echo, decimal or 0x hex [default: the keyset file's counter, else 0]
    #[arg(long)]
    counter: Option<String>,
    /// Response status (TS 102 225 §5.1.2): a name (ok, rc-cc-ds-failed, cntr-low,
    /// cntr-high, cntr-blocked, ciphering-error, undefined-security-error,
    /// insufficient-memory, more-time, tar-unknown, insufficient-security-level,
    /// via-sms-submit, via-ussd) or the byte in hex (two digits are hex: 10 is 0x10).
    #[arg(long)]
    status: String,
    /// Additional response data, hex (e.g. compact response `01 9000`).
    #[arg(long, default_value = "")]
    data: String,
    /// Send unciphered and without RC/CC whatever SPI2 asks (automatic for status 06).
    #[arg(long)]
    unsecured: bool,
    /// Output form.
    #[arg(long, value_enum, default_value = "ud")]
    format: PorFormat,
    /// TP-DA digits for --format submit.
    #[arg(long, default_value = "12345678")]
    da: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Run `simota ota`.
pub fn run(a: OtaArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        OtaCmd::Build(b) => build(b),
        OtaCmd::Parse(p) => parse(p),
        OtaCmd::Por(p) => por(p),
        OtaCmd::Send(s) => crate::cmd_ota_send::run(s),
    }
}

fn input(e: OtaError) -> CliError {
    CliError::input(e.to_string())
}

pub(crate) fn keys(k: &KeyArgs) -> Result<(Keyset, Option<Counter>), CliError> {
    if let (Some(file), Some(name)) = (&k.keyset_file, &k.keyset) {
        if k.kic_alg.is_some() || k.kic.is_some() || k.kid_alg.is_some() || k.kid.is_some() {
            return Err(CliError::input(
                "use either --keyset-file/--keyset or --kic*/--kid* options, not both",
            ));
        }
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::input(format!("--keyset-file {file}: {e}")))?;
        let f = KeysetFile::parse(&text).map_err(|e| CliError::input(format!("{file}: {e}")))?;
        let n = f.get(name).map_err(input)?;
        let mut ks = n.keyset.clone();
        if let Some(i) = k.kic_index {
            ks.kic_index = check_index("--kic-index", i)?;
        }
        if let Some(i) = k.kid_index {
            ks.kid_index = check_index("--kid-index", i)?;
        }
        return Ok((ks, Some(n.counter)));
    }
    let mut ks = Keyset::new();
    let kic_alg = k.kic_alg.as_deref().unwrap_or("none");
    if !kic_alg.eq_ignore_ascii_case("none") {
        let alg: CipherAlgorithm = kic_alg
            .parse()
            .map_err(|e| CliError::input(format!("--kic-alg: {e}")))?;
        let key = hex_arg(
            "--kic",
            k.kic
                .as_deref()
                .ok_or_else(|| CliError::input("--kic-alg needs --kic"))?,
        )?;
        ks = ks
            .with_kic(alg, &key, k.kic_index.unwrap_or(0))
            .map_err(|e| CliError::input(format!("--kic: {e}")))?;
    } else {
        ks.kic_index = check_index("--kic-index", k.kic_index.unwrap_or(0))?;
    }
    let kid_alg = k.kid_alg.as_deref().unwrap_or("none");
    if !kid_alg.eq_ignore_ascii_case("none") {
        let alg: ChecksumAlgorithm = kid_alg
            .parse()
            .map_err(|e| CliError::input(format!("--kid-alg: {e}")))?;
        let key = match (&k.kid, alg) {
            (Some(h), _) => hex_arg("--kid", h)?,
            (None, ChecksumAlgorithm::Crc16 | ChecksumAlgorithm::Crc32) => Vec::new(),
            (None, _) => return Err(CliError::input("--kid-alg needs --kid")),
        };
        ks = ks
            .with_kid(alg, &key, k.kid_index.unwrap_or(0))
            .map_err(|e| CliError::input(format!("--kid: {e}")))?;
    } else {
        ks.kid_index = check_index("--kid-index", k.kid_index.unwrap_or(0))?;
    }
    Ok((ks, None))
}

fn check_index(name: &str, i: u8) -> Result<u8, CliError> {
    if i > 15 {
        return Err(CliError::input(format!("{name}: {i} is not 0..=15")));
    }
    Ok(i)
}

pub(crate) fn spi_arg(s: &str) -> Result<Spi, CliError> {
    let b = hex_arg("--spi", s)?;
    let a: [u8; 2] = b.try_into().map_err(|b: Vec<u8>| {
        CliError::input(format!("--spi: must be 2 bytes, got {}", b.len()))
    })?;
    Ok(Spi::from_bytes(a))
}

pub(crate) fn tar_arg(s: &str) -> Result<Tar, CliError> {
    let b = hex_arg("--tar", s)?;
    Tar::from_slice(&b).map_err(|e| CliError::input(format!("--tar: {e}")))
}

/// The counter file to keep: `--counter-file PATH`, else the `counter_file` of the
/// `--keyset-file` keyset (relative to that file's directory), else none.
pub(crate) fn counter_file_arg(
    given: Option<&std::path::Path>,
    keyset_file: Option<&str>,
    keyset: Option<&str>,
) -> Result<Option<std::path::PathBuf>, CliError> {
    if let Some(p) = given {
        return Ok(Some(p.to_path_buf()));
    }
    let (Some(file), Some(name)) = (keyset_file, keyset) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::input(format!("--keyset-file {file}: {e}")))?;
    let f = KeysetFile::parse(&text).map_err(|e| CliError::input(format!("{file}: {e}")))?;
    let dir = std::path::Path::new(file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    Ok(f.get(name)
        .map_err(input)?
        .counter_file
        .as_ref()
        .map(|p| dir.join(p)))
}

/// The first CNTR: `--counter`, else the counter file's, else the keyset file's, else 0.
pub(crate) fn first_counter(
    given: Option<&str>,
    counter_file: Option<&std::path::Path>,
    keyset_counter: Option<Counter>,
) -> Result<Counter, CliError> {
    if given.is_none() {
        if let Some(p) = counter_file {
            if let Some(c) = terminal::counter_file::read(p).map_err(CliError::input)? {
                return Ok(c);
            }
        }
    }
    counter_arg(given, keyset_counter)
}

pub(crate) fn counter_arg(s: Option<&str>, file: Option<Counter>) -> Result<Counter, CliError> {
    match s {
        Some(s) => parse_counter(s).map_err(|e| CliError::input(format!("--counter: {e}"))),
        None => Ok(file.unwrap_or_default()),
    }
}

fn concat_ref(r: u16) -> ConcatRef {
    u8::try_from(r).map_or(ConcatRef::Sixteen(r), ConcatRef::Eight)
}

fn print_lines(lines: &[Vec<u8>]) {
    for l in lines {
        println!("{}", hx(l));
    }
}

fn build(a: BuildArgs) -> Result<ExitCode, CliError> {
    let (keys, file_counter) = keys(&a.keys)?;
    let spi = spi_arg(&a.spi)?;
    let tar = tar_arg(&a.tar)?;
    let counter = counter_arg(a.counter.as_deref(), file_counter)?;
    let data = hex_arg("--data", &a.data)?;
    let pkt = CommandPacket::new(spi, &keys, tar, counter, data.clone());
    let packet = pkt.seal(&keys).map_err(input)?;
    let uds = split_command(&packet, concat_ref(a.concat_ref)).map_err(input)?;
    let pcntr = SecuredCommand::parse(&packet)
        .and_then(|s| s.decipher(&keys))
        .map(|d| d.pcntr())
        .map_err(input)?;
    let out: Vec<Vec<u8>> = match a.format {
        BuildFormat::Packet => vec![packet.clone()],
        BuildFormat::Ud => uds.clone(),
        BuildFormat::Tpdu | BuildFormat::Envelope => {
            let oa = SmsAddress::digits(0, 1, &a.oa)
                .map_err(|e| CliError::input(format!("--oa: {e}")))?;
            let scts = Timestamp::from_slice(&hex_arg("--scts", &a.scts)?)
                .map_err(|e| CliError::input(format!("--scts: {e}")))?;
            let mut v = Vec::with_capacity(uds.len());
            for ud in &uds {
                let t = SmsDeliver::data_download(oa.clone(), scts, ud.clone(), true)
                    .and_then(|d| d.emit())
                    .map_err(input)?;
                v.push(if a.format == BuildFormat::Tpdu {
                    t
                } else {
                    SmsPpDownload::new(t)
                        .to_apdu()
                        .and_then(|c| {
                            c.emit().map_err(|e| OtaError::InvalidValue {
                                field: "ENVELOPE",
                                reason: e.to_string(),
                            })
                        })
                        .map_err(input)?
                });
            }
            v
        }
    };
    if a.json {
        let j = json!({
            "kind": "command",
            "spi": hx(&spi.to_bytes()),
            "kic": hx(&[pkt.kic.to_byte()]),
            "kid": hx(&[pkt.kid.to_byte()]),
            "tar": tar.to_string(),
            "counter": counter.value(),
            "pcntr": pcntr,
            "data": hx(&data),
            "packet": hx(&packet),
            "segments": uds.len(),
            "format": format!("{:?}", a.format).to_lowercase(),
            "output": out.iter().map(|o| hx(o)).collect::<Vec<_>>(),
        });
        println!("{j}");
    } else {
        print_lines(&out);
    }
    Ok(ExitCode::SUCCESS)
}

fn por(a: PorArgs) -> Result<ExitCode, CliError> {
    let (keys, file_counter) = keys(&a.keys)?;
    let spi = spi_arg(&a.spi)?;
    let tar = tar_arg(&a.tar)?;
    let counter = counter_arg(a.counter.as_deref(), file_counter)?;
    let status = ResponseStatus::parse_name(&a.status).ok_or_else(|| {
        CliError::input(format!(
            "--status: {:?} is neither a status byte in hex (00..FF) nor one of {}",
            a.status,
            ResponseStatus::known_names().join(", ")
        ))
    })?;
    let data = hex_arg("--data", &a.data)?;
    let sec = if a.unsecured || status == ResponseStatus::UnidentifiedSecurityError {
        PorSecurity::NONE
    } else {
        spi.por_security()
    };
    let p = ResponsePacket::new(tar, counter, status).with_data(data.clone());
    let ud = p.seal(sec, &keys).map_err(input)?;
    let out = match a.format {
        PorFormat::Ud => vec![ud.clone()],
        PorFormat::Submit => {
            let da = SmsAddress::digits(0, 1, &a.da)
                .map_err(|e| CliError::input(format!("--da: {e}")))?;
            let body = ud.get(3..).unwrap_or(&[]);
            let segs = split(
                body,
                &[InformationElement::new(IEI_RESPONSE_PACKET, vec![])],
                ConcatRef::Eight(1),
            )
            .map_err(input)?;
            let mut v = Vec::new();
            for (i, s) in segs.into_iter().enumerate() {
                v.push(
                    SmsSubmit::ota(i as u8, da.clone(), s)
                        .and_then(|t| t.emit())
                        .map_err(input)?,
                );
            }
            v
        }
    };
    if a.json {
        let j = json!({
            "kind": "por",
            "spi": hx(&spi.to_bytes()),
            "tar": tar.to_string(),
            "counter": counter.value(),
            "status": status.to_byte(),
            "status_name": status.name(),
            "ciphered": sec.ciphering,
            "integrity_mode": sec.integrity.name(),
            "data": hx(&data),
            "output": out.iter().map(|o| hx(o)).collect::<Vec<_>>(),
        });
        println!("{j}");
    } else {
        print_lines(&out);
    }
    Ok(ExitCode::SUCCESS)
}

/// What the input turned out to be.
enum Found {
    Command { via: Vec<String>, packet: Vec<u8> },
    Por { via: Vec<String>, ud: Vec<u8> },
}

fn has_sec_ie(ud: &[u8]) -> Option<u8> {
    let (udh, _) = Udh::parse(ud).ok()?;
    udh.ies
        .iter()
        .find(|ie| {
            matches!(
                ie.iei,
                IEI_COMMAND_PACKET | IEI_RESPONSE_PACKET | IEI_CONCAT_8 | IEI_CONCAT_16
            )
        })
        .map(|ie| ie.iei)
}

fn from_uds(uds: &[Vec<u8>], mut via: Vec<String>) -> Result<Found, CliError> {
    let refs: Vec<&[u8]> = uds.iter().map(|u| u.as_slice()).collect();
    let r = reassemble(&refs).map_err(|e| CliError::input(format!("TP-UD: {e}")))?;
    if uds.len() > 1 {
        via.push(format!("{} concatenated segments", uds.len()));
    }
    if r.is_command_packet() {
        via.push("TP-UD (UDH 70 00)".into());
        Ok(Found::Command {
            via,
            packet: r.payload,
        })
    } else if r.ies.iter().any(|ie| ie.iei == IEI_RESPONSE_PACKET) {
        via.push("TP-UD (UDH 71 00)".into());
        Ok(Found::Por {
            via,
            ud: r.to_user_data().map_err(input)?,
        })
    } else {
        Err(CliError::input(
            "TP-UD: UDH has neither the command packet IE 70 nor the response IE 71",
        ))
    }
}

fn detect(inputs: &[Vec<u8>]) -> Result<Found, CliError> {
    let first = inputs.first().ok_or_else(|| CliError::input("no input"))?;
    // ENVELOPE (C-APDU or D1 TLV).
    if matches!(first.first(), Some(0x80 | 0xD1)) {
        if let Ok(envs) = inputs
            .iter()
            .map(|b| SmsPpDownload::parse(b))
            .collect::<Result<Vec<_>, _>>()
        {
            let tpdus: Vec<Vec<u8>> = envs.into_iter().map(|e| e.tpdu).collect();
            let mut uds = Vec::new();
            for t in &tpdus {
                uds.push(
                    Tpdu::parse(t)
                        .map_err(|e| CliError::input(format!("ENVELOPE TPDU: {e}")))?
                        .ud()
                        .to_vec(),
                );
            }
            return from_uds(
                &uds,
                vec!["ENVELOPE SMS-PP DOWNLOAD".into(), "SMS-DELIVER".into()],
            );
        }
    }
    // TP-UD(s) with a security header or concatenation IE.
    if inputs.iter().all(|b| Udh::parse(b).is_ok())
        && inputs.iter().any(|b| has_sec_ie(b).is_some())
    {
        return from_uds(inputs, vec![]);
    }
    // Command packet from CPL.
    if inputs.len() == 1
        && first.len() >= 2
        && usize::from(u16::from_be_bytes([first[0], first[1]])) == first.len() - 2
    {
        return Ok(Found::Command {
            via: vec!["command packet from CPL".into()],
            packet: first.clone(),
        });
    }
    // SMS TPDU(s); when that fails on bytes that start like a command packet whose CPL is
    // wrong (a truncated or padded packet), the command packet's error is the one to report.
    let tpdus = from_tpdus(inputs);
    match (tpdus, inputs) {
        (Err(e), [one]) if starts_like_command_packet(one) => {
            let why = SecuredCommand::parse(one)
                .err()
                .map_or(e.to_string(), |c| c.to_string());
            Err(CliError::input(format!(
                "command packet (CHL {:02X}, SPI {}): {why}",
                one[2],
                hx(one.get(3..5).unwrap_or_default())
            )))
        }
        (r, _) => r,
    }
}

/// The bytes begin like a TS 102 225 §5.1.1 command packet whatever its CPL says: room for
/// CPL and CHL, a CHL of 13 plus an RC/CC/DS of 0–8 bytes, and a CPL that covers the header.
fn starts_like_command_packet(b: &[u8]) -> bool {
    let [c0, c1, chl, ..] = *b else {
        return false;
    };
    let cpl = usize::from(u16::from_be_bytes([c0, c1]));
    (ota::command::CHL_MIN..=ota::command::CHL_MIN + 8).contains(&chl)
        && cpl > usize::from(chl)
        && b.len() > 3
}

/// SMS TPDUs (SMS-DELIVER or SMS-SUBMIT), one per segment.
fn from_tpdus(inputs: &[Vec<u8>]) -> Result<Found, CliError> {
    let mut uds = Vec::new();
    let mut kind = String::new();
    for b in inputs {
        let t = Tpdu::parse(b).map_err(|e| {
            CliError::input(format!(
                "input is not an ENVELOPE, TP-UD (02 70 00 / 02 71 00), command packet (CPL matches) or SMS TPDU: {e}"
            ))
        })?;
        kind = match &t {
            Tpdu::Deliver(_) => "SMS-DELIVER".into(),
            Tpdu::Submit(_) => "SMS-SUBMIT".into(),
        };
        uds.push(t.ud().to_vec());
    }
    from_uds(&uds, vec![kind])
}

/// A dissection being built: the `--json` object and the text lines, side by side.
#[derive(Default)]
struct Dissection {
    j: Map<String, Value>,
    text: Vec<String>,
}

impl Dissection {
    /// One field: `key` in the JSON, `label` and `shown` in the text.
    fn line(&mut self, key: &str, label: &str, v: Value, shown: String) {
        self.j.insert(key.into(), v);
        self.text.push(format!("{label:<9}{shown}"));
    }

    /// What deciphering showed, common to command and PoR (TS 102 225 §5.1.1, §5.1.2):
    /// the cipher note, CNTR and PCNTR.
    fn counters(&mut self, ciphered: bool, keys: &Keyset, counter: Counter, pcntr: u8) {
        if ciphered {
            self.text.push(format!(
                "{:<9}CNTR..end deciphered with {}",
                "cipher:",
                keys.kic_alg().map_or("?", |k| k.name())
            ));
        }
        self.line(
            "counter",
            "CNTR:",
            json!(counter.value()),
            counter.to_string(),
        );
        self.line("pcntr", "PCNTR:", json!(pcntr), pcntr.to_string());
    }
}

/// The RC/CC and data lines shared by the command and PoR dissections; true when the
/// integrity check failed.
fn integrity_and_data(
    out: &mut Dissection,
    chk: &Result<IntegrityCheck, OtaError>,
    integrity_value: &[u8],
    data: &[u8],
) -> bool {
    let (state, shown) = integrity_line(chk);
    let failed = state == "failed";
    out.j
        .insert("integrity_value".into(), json!(hx(integrity_value)));
    out.line("integrity", "RC/CC:", json!(state), shown);
    if let Err(e) = chk.clone().and_then(|c| c.into_result()) {
        out.j.insert("integrity_error".into(), json!(e.to_string()));
    }
    out.line("data", "data:", json!(hx(data)), hx(data));
    failed
}

fn integrity_line(c: &Result<IntegrityCheck, OtaError>) -> (String, String) {
    match c {
        Ok(c) => match c.outcome {
            IntegrityOutcome::None => ("none".into(), "none".into()),
            IntegrityOutcome::Verified => (
                "verified".into(),
                format!("{} {} (verified)", c.mode.name(), hx(&c.received)),
            ),
            IntegrityOutcome::Failed => (
                "failed".into(),
                format!(
                    "{} {} (FAILED, computed {})",
                    c.mode.name(),
                    hx(&c.received),
                    hx(&c.computed)
                ),
            ),
        },
        Err(e) => ("failed".into(), format!("cannot check: {e}")),
    }
}

fn describe_script(data: &[u8]) -> Vec<String> {
    match RemoteScript::parse(data) {
        Ok(RemoteScript::Compact(s)) => {
            let mut v = vec![format!(
                "script:  compact format, {} command(s)",
                s.commands.len()
            )];
            for (i, c) in s.commands.iter().enumerate() {
                let mut b = Vec::new();
                c.emit_into(&mut b);
                v.push(format!("  [{}] {}", i + 1, hx(&b)));
            }
            v
        }
        Ok(RemoteScript::Expanded(s)) => {
            let mut v = vec![format!(
                "script:  expanded format ({}), {} TLV(s)",
                if s.indefinite {
                    "AE indefinite"
                } else {
                    "AA definite"
                },
                s.items.len()
            )];
            for it in &s.items {
                v.push(match it {
                    ScriptCommand::CApdu(a) => format!(
                        "  22 C-APDU {}",
                        a.emit().map(|b| hx(&b)).unwrap_or_default()
                    ),
                    ScriptCommand::ImmediateAction(x) => format!("  81 immediate action {}", hx(x)),
                    ScriptCommand::ErrorAction(x) => format!("  82 error action {}", hx(x)),
                    ScriptCommand::ScriptChaining(x) => format!("  83 script chaining {}", hx(x)),
                    ScriptCommand::Other(t, x) => format!("  {t:02X} {}", hx(x)),
                });
            }
            v
        }
        Err(e) => vec![format!("script:  not a remote APDU script ({e})")],
    }
}

fn parse(a: ParseArgs) -> Result<ExitCode, CliError> {
    let (keys, _) = keys(&a.keys)?;
    let mut inputs = Vec::new();
    for (i, h) in a.hex.iter().enumerate() {
        inputs.push(hex_arg(if i == 0 { "HEX" } else { "HEX (segment)" }, h)?);
    }
    let mut out = Dissection::default();
    let failed;
    match detect(&inputs)? {
        Found::Command { via, packet } => {
            let sc = SecuredCommand::parse(&packet).map_err(input)?;
            let h = *sc.header();
            out.j.insert("kind".into(), json!("command"));
            out.text.push(format!(
                "command packet (TS 31.115 SMS form){}",
                via_text(&via)
            ));
            if let Some(s) = &a.spi {
                let given = spi_arg(s)?;
                if given != h.spi {
                    out.text.push(format!(
                        "note:    --spi {} differs from the packet's SPI; the packet's is used",
                        hx(&given.to_bytes())
                    ));
                }
            }
            out.line(
                "cpl",
                "CPL:",
                json!(h.cpl),
                format!("{:04X} ({})", h.cpl, h.cpl),
            );
            out.line(
                "chl",
                "CHL:",
                json!(h.chl),
                format!("{:02X} ({})", h.chl, h.chl),
            );
            out.line(
                "spi",
                "SPI:",
                json!(hx(&h.spi.to_bytes())),
                h.spi.to_string(),
            );
            out.line(
                "kic",
                "KIc:",
                json!(hx(&[h.kic.to_byte()])),
                h.kic.to_string(),
            );
            let kid_desc = format!(
                "{:02X} (key {}, {})",
                h.kid.to_byte(),
                h.kid.key_index,
                h.kid.alg(h.spi.integrity)
            );
            out.line("kid", "KID:", json!(hx(&[h.kid.to_byte()])), kid_desc);
            out.line("tar", "TAR:", json!(h.tar.to_string()), h.tar.to_string());
            let d = sc.decipher(&keys).map_err(|e| hint(e, h.spi.ciphering))?;
            out.counters(h.spi.ciphering, &keys, d.counter(), d.pcntr());
            failed = integrity_and_data(
                &mut out,
                &d.check_integrity(&keys),
                d.integrity_value(),
                d.data(),
            );
            out.line(
                "padding",
                "padding:",
                json!(hx(d.padding())),
                hx(d.padding()),
            );
            out.text.extend(describe_script(d.data()));
        }
        Found::Por { via, ud } => {
            let spi = spi_arg(a.spi.as_deref().ok_or_else(|| {
                CliError::input(
                    "PoR: --spi (of the command) is needed to know how the PoR is secured",
                )
            })?)?;
            let sr = SecuredResponse::parse(&ud).map_err(input)?;
            let h = sr.header().clone();
            let mut sec = spi.por_security();
            let mut note = None;
            let d = match sr.decipher(sec, &keys) {
                Ok(d) => d,
                // Status 06 PoRs are sent unciphered and without RC/CC (TS 102 225).
                Err(e @ (OtaError::CipherLength { .. } | OtaError::Malformed { .. }))
                    if h.rhl == 10
                        && sr.clear_status() == Some(ResponseStatus::UnidentifiedSecurityError) =>
                {
                    note = Some(format!("PoR is unsecured although SPI2 asks otherwise ({e}); status 06 PoRs are sent so"));
                    sec = PorSecurity::NONE;
                    sr.decipher(sec, &keys).map_err(input)?
                }
                Err(e) => return Err(hint(e, sec.ciphering)),
            };
            out.j.insert("kind".into(), json!("por"));
            out.text
                .push(format!("response packet (PoR){}", via_text(&via)));
            if let Some(n) = note {
                out.text.push(format!("note:    {n}"));
            }
            out.line("udh", "UDH:", json!(hx(&h.udh)), hx(&h.udh));
            out.line(
                "rpl",
                "RPL:",
                json!(h.rpl),
                format!("{:04X} ({})", h.rpl, h.rpl),
            );
            out.line(
                "rhl",
                "RHL:",
                json!(h.rhl),
                format!("{:02X} ({})", h.rhl, h.rhl),
            );
            out.line(
                "spi",
                "SPI:",
                json!(hx(&spi.to_bytes())),
                format!("{spi} (given)"),
            );
            out.j
                .insert("kic".into(), json!(hx(&[keys.kic().to_byte()])));
            out.j
                .insert("kid".into(), json!(hx(&[keys.kid().to_byte()])));
            out.line("tar", "TAR:", json!(h.tar.to_string()), h.tar.to_string());
            out.counters(sec.ciphering, &keys, d.counter(), d.pcntr());
            out.line(
                "status",
                "status:",
                json!(d.status().to_byte()),
                d.status().to_string(),
            );
            out.j.insert("status_name".into(), json!(d.status().name()));
            failed = integrity_and_data(
                &mut out,
                &d.check_integrity(&keys),
                d.integrity_value(),
                d.data(),
            );
            if !d.data().is_empty() {
                match RemoteResponse::parse(d.data()) {
                    Ok(RemoteResponse::Compact(c)) => {
                        out.j.insert("commands".into(), json!(c.count));
                        out.j
                            .insert("last_sw".into(), json!(format!("{:04X}", c.sw.0)));
                        out.j.insert("last_data".into(), json!(hx(&c.data)));
                        out.text.push(format!(
                            "response: compact, {} command(s) executed, last SW {} ({}), data {}",
                            c.count,
                            format_args!("{:04X}", c.sw.0),
                            c.sw.meaning(),
                            if c.data.is_empty() {
                                "(none)".into()
                            } else {
                                hx(&c.data)
                            }
                        ));
                    }
                    Ok(RemoteResponse::Expanded(r)) => {
                        if let Some(n) = r.count() {
                            out.j.insert("commands".into(), json!(n));
                        }
                        if let Some(last) = r.rapdus().last() {
                            out.j
                                .insert("last_sw".into(), json!(format!("{:04X}", last.sw.0)));
                            out.j.insert("last_data".into(), json!(hx(&last.data)));
                        }
                        out.text.push(format!(
                            "response: expanded ({})",
                            if r.indefinite { "AF" } else { "AB" }
                        ));
                        for it in &r.items {
                            out.text.push(match it {
                                ScriptResponse::Count(n) => format!("  80 executed commands {n}"),
                                ScriptResponse::RApdu(x) => {
                                    format!("  23 R-APDU {} SW {:04X}", hx(&x.data), x.sw.0)
                                }
                                ScriptResponse::ImmediateAction(x) => {
                                    format!("  81 immediate action response {}", hx(x))
                                }
                                ScriptResponse::ScriptChaining(x) => {
                                    format!("  83 script chaining response {}", hx(x))
                                }
                                ScriptResponse::BadFormat(e) => format!("  90 bad format {e:02X}"),
                                ScriptResponse::Other(t, x) => format!("  {t:02X} {}", hx(x)),
                            });
                        }
                    }
                    Err(e) => out
                        .text
                        .push(format!("response: not a remote APDU response ({e})")),
                }
            }
        }
    }
    let Dissection { j, text } = out;
    let reason = j
        .get("integrity_error")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    if a.json {
        println!("{}", Value::Object(j));
    } else {
        for l in text {
            println!("{l}");
        }
    }
    if failed {
        eprintln!(
            "simota: integrity check failed{}",
            reason.map(|r| format!(": {r}")).unwrap_or_default()
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A decode error found after deciphering usually means a wrong key: say so.
fn hint(e: OtaError, ciphered: bool) -> CliError {
    let after = matches!(e, OtaError::PaddingTooLong { .. });
    if ciphered && after {
        CliError::input(format!(
            "{e} (after deciphering: wrong KIc key or algorithm?)"
        ))
    } else {
        input(e)
    }
}

fn via_text(via: &[String]) -> String {
    if via.is_empty() {
        String::new()
    } else {
        format!(", via {}", via.join(" → "))
    }
}
