//! SDP offer/answer for a WebRTC audio call (RFC 8829 JSEP, RFC 8866 SDP, RFC 7587 Opus).
//!
//! MediaCore writes descriptions with the `rtc-sdp` codec and reads any description the
//! codec parses, then checks it holds what MediaCore needs: an Opus audio section over
//! DTLS-SRTP with RTCP mux, ICE credentials and a certificate fingerprint. What it cannot do
//! is an error naming the reason, never a silent mismatch. Media sections it does not take
//! (video, data) are answered rejected (port 0), as JSEP says, so the description keeps its
//! shape and an AV1 video section can join later.

use std::io::Cursor;

use rtc_sdp::description::common::Attribute;
use rtc_sdp::description::media::{MediaDescription, MediaName, RangedPort};
use rtc_sdp::description::session::{Origin, SessionDescription, TimeDescription, Timing};
use thiserror::Error;

use crate::net::transport::{Fingerprint, TransportError};

/// Header extension URIs MediaCore negotiates for audio.
pub mod extension_uri {
    /// Client-to-mixer audio level (RFC 6464).
    pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    /// Absolute send time (WebRTC's delay-based estimation).
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    /// Transport-wide sequence number for transport-cc feedback.
    pub const TRANSPORT_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
}

const SUPPORTED_EXTENSIONS: [&str; 3] = [
    extension_uri::AUDIO_LEVEL,
    extension_uri::ABS_SEND_TIME,
    extension_uri::TRANSPORT_CC,
];

/// Why a description was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    /// The text is not SDP.
    #[error("SDP syntax: {0}")]
    Syntax(String),
    /// No audio section to take.
    #[error("the description has no audio media section")]
    NoAudio,
    /// The audio section offers no Opus at 48 kHz with 2 channels.
    #[error("the audio section offers no opus/48000/2")]
    NoOpus,
    /// The audio section is not DTLS-SRTP.
    #[error("audio transport {0:?} is not UDP/TLS/RTP/SAVPF (DTLS-SRTP)")]
    NotSecure(String),
    /// RTCP is not multiplexed with RTP.
    #[error("the audio section lacks a=rtcp-mux; MediaCore needs RTP and RTCP on one port")]
    NoRtcpMux,
    /// No ICE username fragment or password.
    #[error("no a=ice-ufrag / a=ice-pwd")]
    NoIceCredentials,
    /// No certificate fingerprint.
    #[error("no a=fingerprint")]
    NoFingerprint,
    /// A fingerprint MediaCore cannot use.
    #[error(transparent)]
    Fingerprint(#[from] TransportError),
    /// An `a=setup` value that is not allowed here.
    #[error("a=setup:{0} is not valid in this description")]
    BadSetup(String),
    /// The audio section has no `a=mid`, or the answer's mids differ from the offer's.
    #[error("media section ids: {0}")]
    Mid(String),
    /// The answer does not fit the offer it answers.
    #[error("answer does not match the offer: {0}")]
    Mismatch(String),
}

/// The DTLS setup attribute (RFC 4145, RFC 5763).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Either role (offers).
    ActPass,
    /// DTLS client.
    Active,
    /// DTLS server.
    Passive,
}

impl Setup {
    fn as_str(self) -> &'static str {
        match self {
            Setup::ActPass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
        }
    }

    fn parse(text: &str) -> Result<Self, SdpError> {
        match text.trim() {
            "actpass" => Ok(Setup::ActPass),
            "active" => Ok(Setup::Active),
            "passive" => Ok(Setup::Passive),
            other => Err(SdpError::BadSetup(other.to_owned())),
        }
    }
}

/// The media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// This description's side only sends.
    SendOnly,
    /// This description's side only receives.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes to this offered one, for a side that wants both.
    pub fn answer(self) -> Self {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether the side whose description says this sends.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the side whose description says this receives.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// Opus parameters of an audio section (RFC 7587 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusParams {
    /// The RTP payload type.
    pub payload_type: u8,
    /// `useinbandfec=1`: the receiver decodes in-band FEC.
    pub fec: bool,
    /// `usedtx=1`: the receiver prefers the sender to use DTX.
    pub dtx: bool,
    /// `stereo=1`: the receiver prefers stereo.
    pub stereo: bool,
}

/// The audio section MediaCore writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAudio {
    /// The media id (`a=mid`).
    pub mid: String,
    /// Opus and its parameters.
    pub opus: OpusParams,
    /// The SSRC this side sends with.
    pub ssrc: u32,
    /// RTCP CNAME.
    pub cname: String,
    /// The direction.
    pub direction: Direction,
    /// Header extensions: (id, URI).
    pub extensions: Vec<(u8, String)>,
}

/// A media section MediaCore does not take, answered with port 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherMedia {
    /// `audio`, `video` or `application`.
    pub kind: String,
    /// Its mid.
    pub mid: String,
    /// Its transport protocol, echoed in the rejection.
    pub protos: Vec<String>,
    /// Its formats, echoed in the rejection.
    pub formats: Vec<String>,
}

/// Everything MediaCore puts in a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDescription {
    /// ICE username fragment.
    pub ice_ufrag: String,
    /// ICE password.
    pub ice_pwd: String,
    /// The certificate's fingerprint.
    pub fingerprint: Fingerprint,
    /// The DTLS setup role.
    pub setup: Setup,
    /// Candidates gathered so far (`candidate:…` lines).
    pub candidates: Vec<String>,
    /// Whether gathering is complete (`a=end-of-candidates`).
    pub end_of_candidates: bool,
    /// The audio section.
    pub audio: LocalAudio,
    /// Sections refused (answers only), in their offered order after audio.
    pub rejected: Vec<(usize, OtherMedia)>,
    /// SDP session id (`o=` line).
    pub session_id: u64,
    /// SDP session version.
    pub session_version: u64,
}

impl LocalDescription {
    /// The description as SDP text (CRLF line ends).
    pub fn to_sdp(&self, audio_index: usize) -> String {
        let mut session = SessionDescription {
            version: 0,
            origin: Origin {
                username: "-".to_owned(),
                session_id: self.session_id,
                session_version: self.session_version,
                network_type: "IN".to_owned(),
                address_type: "IP4".to_owned(),
                unicast_address: "127.0.0.1".to_owned(),
            },
            session_name: "-".to_owned(),
            time_descriptions: vec![TimeDescription {
                timing: Timing {
                    start_time: 0,
                    stop_time: 0,
                },
                repeat_times: vec![],
            }],
            ..SessionDescription::default()
        };
        session.attributes.push(attribute(
            "group",
            Some(format!("BUNDLE {}", self.audio.mid)),
        ));
        session.attributes.push(attribute(
            "msid-semantic",
            Some(" WMS mediacore".to_owned()),
        ));
        let mut sections: Vec<(usize, MediaDescription)> = self
            .rejected
            .iter()
            .map(|(index, other)| (*index, rejected_section(other)))
            .collect();
        sections.push((audio_index, self.audio_section()));
        sections.sort_by_key(|(index, _)| *index);
        session.media_descriptions = sections.into_iter().map(|(_, m)| m).collect();
        session.marshal()
    }

    fn audio_section(&self) -> MediaDescription {
        let a = &self.audio;
        let mut m = MediaDescription::new_jsep_media_description("audio".to_owned(), vec![]);
        m = m.with_value_attribute("rtcp".to_owned(), "9 IN IP4 0.0.0.0".to_owned());
        for c in &self.candidates {
            m = m.with_value_attribute("candidate".to_owned(), strip_candidate(c).to_owned());
        }
        if self.end_of_candidates {
            m = m.with_property_attribute("end-of-candidates".to_owned());
        }
        m = m
            .with_ice_credentials(self.ice_ufrag.clone(), self.ice_pwd.clone())
            .with_value_attribute("ice-options".to_owned(), "trickle".to_owned());
        let fingerprint = self.fingerprint.to_string();
        let (algorithm, value) = fingerprint.split_once(' ').unwrap_or((&fingerprint, ""));
        m = m
            .with_fingerprint(algorithm.to_owned(), value.to_owned())
            .with_value_attribute("setup".to_owned(), self.setup.as_str().to_owned())
            .with_value_attribute("mid".to_owned(), a.mid.clone());
        for (id, uri) in &a.extensions {
            m = m.with_value_attribute("extmap".to_owned(), format!("{id} {uri}"));
        }
        m = m
            .with_property_attribute(a.direction.as_str().to_owned())
            .with_value_attribute("msid".to_owned(), format!("mediacore {}-audio", a.cname))
            .with_property_attribute("rtcp-mux".to_owned())
            .with_property_attribute("rtcp-rsize".to_owned());
        let mut fmtp = "minptime=10".to_owned();
        if a.opus.fec {
            fmtp.push_str(";useinbandfec=1");
        }
        if a.opus.dtx {
            fmtp.push_str(";usedtx=1");
        }
        if a.opus.stereo {
            fmtp.push_str(";stereo=1;sprop-stereo=1");
        }
        let pt = a.opus.payload_type;
        m = m
            .with_codec(pt, "opus".to_owned(), 48_000, 2, fmtp)
            .with_value_attribute("rtcp-fb".to_owned(), format!("{pt} transport-cc"));
        if a.direction.sends() {
            m = m
                .with_value_attribute("ssrc".to_owned(), format!("{} cname:{}", a.ssrc, a.cname))
                .with_value_attribute(
                    "ssrc".to_owned(),
                    format!("{} msid:mediacore {}-audio", a.ssrc, a.cname),
                );
        }
        m
    }
}

fn attribute(key: &str, value: Option<String>) -> Attribute {
    Attribute {
        key: key.to_owned(),
        value,
    }
}

fn rejected_section(other: &OtherMedia) -> MediaDescription {
    let mut m = MediaDescription {
        media_name: MediaName {
            media: other.kind.clone(),
            port: RangedPort {
                value: 0,
                range: None,
            },
            protos: other.protos.clone(),
            formats: other.formats.clone(),
        },
        ..MediaDescription::new_jsep_media_description(other.kind.clone(), vec![])
    };
    if m.media_name.formats.is_empty() {
        m.media_name.formats.push("0".to_owned());
    }
    m.with_value_attribute("mid".to_owned(), other.mid.clone())
        .with_property_attribute("inactive".to_owned())
}

/// `candidate:…` without `a=` and without the `candidate:` key (SDP attribute value form).
fn strip_candidate(line: &str) -> &str {
    let line = line.trim();
    let line = line.strip_prefix("a=").unwrap_or(line);
    line.strip_prefix("candidate:").unwrap_or(line)
}

/// What MediaCore takes from a remote description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteDescription {
    /// ICE username fragment.
    pub ice_ufrag: String,
    /// ICE password.
    pub ice_pwd: String,
    /// Whether the remote is an ICE lite agent (then this side controls).
    pub ice_lite: bool,
    /// The remote certificate's fingerprint.
    pub fingerprint: Fingerprint,
    /// The remote's DTLS setup attribute.
    pub setup: Setup,
    /// Candidates in the description (`candidate:…`).
    pub candidates: Vec<String>,
    /// The audio section's mid.
    pub audio_mid: String,
    /// Index of the audio section among the media sections.
    pub audio_index: usize,
    /// Opus as the remote receives it.
    pub opus: OpusParams,
    /// The remote's direction.
    pub direction: Direction,
    /// The SSRC the remote sends with, when it says.
    pub ssrc: Option<u32>,
    /// Header extensions the remote offers that MediaCore supports: (id, URI).
    pub extensions: Vec<(u8, String)>,
    /// The sections MediaCore does not take: (index, section).
    pub others: Vec<(usize, OtherMedia)>,
}

/// Parses and checks a remote description.
pub fn parse(text: &str) -> Result<RemoteDescription, SdpError> {
    let session = SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
        .map_err(|e| SdpError::Syntax(e.to_string()))?;
    let session_attr = |key: &str| -> Option<String> {
        session
            .attributes
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.clone())
    };
    let mut audio: Option<(usize, &MediaDescription)> = None;
    let mut others = Vec::new();
    for (index, m) in session.media_descriptions.iter().enumerate() {
        let mid = media_attr(m, "mid").unwrap_or_default();
        let is_candidate_audio = m.media_name.media == "audio" && m.media_name.port.value != 0;
        if is_candidate_audio && audio.is_none() {
            audio = Some((index, m));
        } else {
            others.push((
                index,
                OtherMedia {
                    kind: m.media_name.media.clone(),
                    mid,
                    protos: m.media_name.protos.clone(),
                    formats: m.media_name.formats.clone(),
                },
            ));
        }
    }
    let (audio_index, m) = audio.ok_or(SdpError::NoAudio)?;
    let protos = m.media_name.protos.join("/");
    if protos != "UDP/TLS/RTP/SAVPF" {
        return Err(SdpError::NotSecure(protos));
    }
    if !m.has_attribute("rtcp-mux") {
        return Err(SdpError::NoRtcpMux);
    }
    let audio_mid = media_attr(m, "mid")
        .filter(|mid| !mid.is_empty())
        .ok_or_else(|| SdpError::Mid("the audio section has no a=mid".to_owned()))?;
    let ice_ufrag = media_attr(m, "ice-ufrag").or_else(|| session_attr("ice-ufrag"));
    let ice_pwd = media_attr(m, "ice-pwd").or_else(|| session_attr("ice-pwd"));
    let (Some(ice_ufrag), Some(ice_pwd)) = (ice_ufrag, ice_pwd) else {
        return Err(SdpError::NoIceCredentials);
    };
    let fingerprint = media_attr(m, "fingerprint")
        .or_else(|| session_attr("fingerprint"))
        .ok_or(SdpError::NoFingerprint)?;
    let fingerprint = Fingerprint::parse(&fingerprint)?;
    let setup = match media_attr(m, "setup").or_else(|| session_attr("setup")) {
        Some(s) => Setup::parse(&s)?,
        // RFC 4145: absent means active.
        None => Setup::Active,
    };
    let opus = m
        .codecs()
        .into_values()
        .filter(|c| {
            c.name.eq_ignore_ascii_case("opus")
                && c.clock_rate == 48_000
                && c.encoding_parameters == "2"
        })
        .min_by_key(|c| c.payload_type)
        .ok_or(SdpError::NoOpus)?;
    let fmtp = |key: &str| {
        opus.fmtp.split(';').any(|p| {
            p.trim()
                .split_once('=')
                .is_some_and(|(k, v)| k.trim() == key && v.trim() == "1")
        })
    };
    let opus = OpusParams {
        payload_type: opus.payload_type,
        fec: fmtp("useinbandfec"),
        dtx: fmtp("usedtx"),
        stereo: fmtp("stereo"),
    };
    let direction = if m.has_attribute("sendonly") {
        Direction::SendOnly
    } else if m.has_attribute("recvonly") {
        Direction::RecvOnly
    } else if m.has_attribute("inactive") {
        Direction::Inactive
    } else {
        Direction::SendRecv
    };
    let candidates = m
        .attributes
        .iter()
        .filter(|a| a.key == "candidate")
        .filter_map(|a| a.value.as_ref())
        .map(|v| format!("candidate:{v}"))
        .collect();
    let ssrc = m
        .attributes
        .iter()
        .filter(|a| a.key == "ssrc")
        .filter_map(|a| a.value.as_ref())
        .find_map(|v| v.split_whitespace().next()?.parse().ok());
    let extensions = m
        .attributes
        .iter()
        .filter(|a| a.key == "extmap")
        .filter_map(|a| a.value.as_ref())
        .filter_map(|v| {
            let mut parts = v.split_whitespace();
            let id = parts.next()?.split('/').next()?.parse::<u8>().ok()?;
            let uri = parts.next()?;
            SUPPORTED_EXTENSIONS
                .contains(&uri)
                .then(|| (id, uri.to_owned()))
        })
        .collect();
    Ok(RemoteDescription {
        ice_ufrag,
        ice_pwd,
        ice_lite: session.attributes.iter().any(|a| a.key == "ice-lite"),
        fingerprint,
        setup,
        candidates,
        audio_mid,
        audio_index,
        opus,
        direction,
        ssrc,
        extensions,
        others,
    })
}

fn media_attr(m: &MediaDescription, key: &str) -> Option<String> {
    m.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.clone())
}

/// The header extensions MediaCore offers, with the ids Chromium uses for them.
pub fn offered_extensions() -> Vec<(u8, String)> {
    vec![
        (1, extension_uri::AUDIO_LEVEL.to_owned()),
        (2, extension_uri::ABS_SEND_TIME.to_owned()),
        (3, extension_uri::TRANSPORT_CC.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(setup: Setup) -> LocalDescription {
        LocalDescription {
            ice_ufrag: "ufrag".to_owned(),
            ice_pwd: "passwordpasswordpassword".to_owned(),
            fingerprint: Fingerprint::of_certificate("sha-256", b"cert").expect("fingerprint"),
            setup,
            candidates: vec!["candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host".to_owned()],
            end_of_candidates: true,
            audio: LocalAudio {
                mid: "0".to_owned(),
                opus: OpusParams {
                    payload_type: 111,
                    fec: true,
                    dtx: false,
                    stereo: false,
                },
                ssrc: 1234,
                cname: "cname".to_owned(),
                direction: Direction::SendRecv,
                extensions: offered_extensions(),
            },
            rejected: vec![],
            session_id: 42,
            session_version: 1,
        }
    }

    #[test]
    fn written_offer_parses_back() {
        let offer = local(Setup::ActPass);
        let text = offer.to_sdp(0);
        let parsed = parse(&text).expect("parse own offer");
        assert_eq!(parsed.ice_ufrag, offer.ice_ufrag);
        assert_eq!(parsed.ice_pwd, offer.ice_pwd);
        assert_eq!(parsed.fingerprint, offer.fingerprint);
        assert_eq!(parsed.setup, Setup::ActPass);
        assert_eq!(parsed.candidates, offer.candidates);
        assert_eq!(parsed.audio_mid, "0");
        assert_eq!(parsed.opus, offer.audio.opus);
        assert_eq!(parsed.ssrc, Some(1234));
        assert_eq!(parsed.extensions, offered_extensions());
        assert_eq!(parsed.direction, Direction::SendRecv);
        assert!(text.contains("a=group:BUNDLE 0\r\n"), "{text}");
        assert!(text.contains("a=rtcp-fb:111 transport-cc\r\n"), "{text}");
    }

    #[test]
    fn what_mediacore_cannot_do_is_a_named_error() {
        let good = local(Setup::ActPass).to_sdp(0);
        let cases: [(&str, &str, SdpError); 5] = [
            ("a=rtcp-mux\r\n", "", SdpError::NoRtcpMux),
            (
                "UDP/TLS/RTP/SAVPF",
                "RTP/AVP",
                SdpError::NotSecure("RTP/AVP".to_owned()),
            ),
            ("opus/48000/2", "PCMU/8000", SdpError::NoOpus),
            (
                "a=setup:actpass",
                "a=setup:holdconn",
                SdpError::BadSetup("holdconn".to_owned()),
            ),
            ("m=audio", "m=video", SdpError::NoAudio),
        ];
        for (from, to, expected) in cases {
            let text = good.replace(from, to);
            assert_eq!(parse(&text), Err(expected), "{from} -> {to}");
        }
        let no_fp: String = good
            .lines()
            .filter(|l| !l.starts_with("a=fingerprint"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        assert_eq!(parse(&no_fp), Err(SdpError::NoFingerprint));
        assert!(matches!(parse("not sdp"), Err(SdpError::Syntax(_))));
        assert!(matches!(parse(""), Err(SdpError::Syntax(_))));
    }

    #[test]
    fn sections_not_taken_are_kept_for_a_rejecting_answer() {
        let mut text = local(Setup::ActPass).to_sdp(0);
        text.push_str(
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 AV1/90000\r\n",
        );
        let parsed = parse(&text).expect("parse");
        assert_eq!(parsed.others.len(), 1);
        let (index, other) = &parsed.others[0];
        assert_eq!(
            (*index, other.kind.as_str(), other.mid.as_str()),
            (1, "video", "1")
        );
        let mut answer = local(Setup::Active);
        answer.rejected = parsed.others.clone();
        let answer_text = answer.to_sdp(parsed.audio_index);
        assert!(
            answer_text.contains("m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"),
            "{answer_text}"
        );
        let reparsed = parse(&answer_text).expect("parse answer");
        assert_eq!(reparsed.others.len(), 1);
    }
}
