//! The webrtc-rs peer of the setup and media_path benches: two `webrtc` 0.21 peer
//! connections (the async crate over the sans-IO `rtc` core) on 127.0.0.1, with their
//! defaults (default codecs, no interceptors registered, mDNS as it comes), connected by a
//! non-trickle offer/answer exchange the way build-notes.md ("webrtc 0.21 / rtc") does it:
//! wait for ICE gathering to complete, then hand over the full description.
//!
//! The offerer sends Opus RTP through a [`TrackLocalStaticRTP`]; the answerer reads it from
//! the remote track it is given in `on_track`.
//!
//! Compiled into the bench targets (`#[path]`) because `webrtc` is a dev-dependency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_OPUS;
use rtc::rtp::header::Header;
use rtc::rtp::packet::Packet;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

/// Errors of the peer's setup, as text (they end a bench run with a message).
pub type PeerResult<T> = Result<T, String>;

/// Opus's payload type in webrtc-rs's default codecs (and MediaCore's).
pub const OPUS_PT: u8 = 111;

/// Samples per 20 ms Opus frame at 48 kHz (the RTP timestamp step).
pub const FRAME_SAMPLES: u32 = 960;

/// Where the handler reports what the benches wait for.
struct Handler {
    gathered: watch::Sender<bool>,
    connected: watch::Sender<Option<Instant>>,
    failed: watch::Sender<bool>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        match state {
            RTCPeerConnectionState::Connected => {
                let now = Instant::now();
                self.connected.send_if_modified(|at| {
                    let first = at.is_none();
                    at.get_or_insert(now);
                    first
                });
            }
            RTCPeerConnectionState::Failed => {
                let _ = self.failed.send(true);
            }
            _ => {}
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// One webrtc-rs peer connection and what its handler reported.
pub struct Peer {
    /// The connection.
    pub pc: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    connected: watch::Receiver<Option<Instant>>,
    failed: watch::Receiver<bool>,
    /// Remote tracks, as `on_track` gives them.
    tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

impl Peer {
    /// A peer on 127.0.0.1 (one UDP socket, port chosen by the system) with webrtc-rs's
    /// default codecs and settings. Its driver task is spawned on the tokio runtime this
    /// runs in.
    pub async fn new() -> PeerResult<Self> {
        Self::with_check_interval(None).await
    }

    /// The same, with the ICE agent's interval between connectivity checks set (webrtc-rs's
    /// default is 200 ms, and its first check waits for that interval's first tick).
    pub async fn with_check_interval(check_interval: Option<Duration>) -> PeerResult<Self> {
        let mut media = MediaEngine::default();
        media
            .register_default_codecs()
            .map_err(|e| format!("webrtc-rs codecs: {e}"))?;
        let (gathered_tx, gathered) = watch::channel(false);
        let (connected_tx, connected) = watch::channel(None);
        let (failed_tx, failed) = watch::channel(false);
        let (tracks_tx, tracks) = mpsc::unbounded_channel();
        let runtime =
            webrtc::runtime::default_runtime().ok_or("webrtc-rs has no runtime (tokio feature)")?;
        let settings = SettingEngineBuilder::new()
            .with_ice_connection_attempts(check_interval, None)
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_setting_engine(settings)
            .with_handler(Arc::new(Handler {
                gathered: gathered_tx,
                connected: connected_tx,
                failed: failed_tx,
                tracks: tracks_tx,
            }))
            .with_runtime(runtime)
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await
            .map_err(|e| format!("webrtc-rs peer: {e}"))?;
        Ok(Self {
            pc: Arc::new(pc),
            gathered,
            connected,
            failed,
            tracks,
        })
    }

    /// Waits for ICE gathering to complete and returns the full local description.
    async fn gathered_description(
        &mut self,
        within: Duration,
    ) -> PeerResult<RTCSessionDescription> {
        tokio::time::timeout(within, self.gathered.wait_for(|done| *done))
            .await
            .map_err(|_| "webrtc-rs: ICE gathering did not complete".to_owned())?
            .map_err(|_| "webrtc-rs: peer ended while gathering".to_owned())?;
        self.pc
            .local_description()
            .await
            .ok_or_else(|| "webrtc-rs: no local description".to_owned())
    }

    /// When the connection first reached `connected` (ICE and DTLS done); waits for it.
    pub async fn connected_at(&mut self, within: Duration) -> PeerResult<Instant> {
        let failed = self.failed.clone();
        let wait = self.connected.wait_for(|at| at.is_some());
        let at = tokio::select! {
            r = tokio::time::timeout(within, wait) => r
                .map_err(|_| format!("webrtc-rs: not connected within {within:?}"))?
                .map_err(|_| "webrtc-rs: peer ended before connecting".to_owned())?
                .ok_or("webrtc-rs: connected without a time")?,
            () = async {
                let mut failed = failed;
                let _ = failed.wait_for(|f| *f).await;
            } => return Err("webrtc-rs: connection failed".to_owned()),
        };
        Ok(at)
    }

    /// The remote tracks from here on (a later call gets none), for a reader task to own.
    pub fn take_tracks(&mut self) -> mpsc::UnboundedReceiver<Arc<dyn TrackRemote>> {
        std::mem::replace(&mut self.tracks, mpsc::unbounded_channel().1)
    }

    /// Closes the connection (errors on an already closed one are of no interest here).
    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}

/// A local Opus track with a fixed SSRC, for [`TrackLocalStaticRTP::write_rtp`].
pub fn opus_track(ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "bench-stream".to_owned(),
        "bench-audio".to_owned(),
        "bench-audio".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    )))
}

/// The `n`th Opus RTP packet of a stream (20 ms apart), sharing `payload`'s bytes.
pub fn opus_packet(ssrc: u32, n: u32, payload: &Bytes) -> Packet {
    Packet {
        header: Header {
            version: 2,
            payload_type: OPUS_PT,
            sequence_number: n as u16,
            timestamp: n.wrapping_mul(FRAME_SAMPLES),
            ssrc,
            ..Default::default()
        },
        payload: payload.clone(),
    }
}

/// Adds `track` to `offerer`, so its offer carries a sending audio section.
pub async fn add_track(offerer: &Peer, track: &Arc<TrackLocalStaticRTP>) -> PeerResult<()> {
    offerer
        .pc
        .add_track(Arc::clone(track) as Arc<dyn TrackLocal>)
        .await
        .map(|_| ())
        .map_err(|e| format!("webrtc-rs add_track: {e}"))
}

/// The non-trickle offer/answer exchange: the offerer's full offer (after gathering) to the
/// answerer, its full answer back. ICE and DTLS run from here on.
pub async fn negotiate(offerer: &mut Peer, answerer: &mut Peer) -> PeerResult<()> {
    const GATHER: Duration = Duration::from_secs(5);
    let offer = offerer
        .pc
        .create_offer(None)
        .await
        .map_err(|e| format!("webrtc-rs create_offer: {e}"))?;
    offerer
        .pc
        .set_local_description(offer)
        .await
        .map_err(|e| format!("webrtc-rs set_local_description(offer): {e}"))?;
    let offer = offerer.gathered_description(GATHER).await?;
    answerer
        .pc
        .set_remote_description(offer)
        .await
        .map_err(|e| format!("webrtc-rs set_remote_description(offer): {e}"))?;
    let answer = answerer
        .pc
        .create_answer(None)
        .await
        .map_err(|e| format!("webrtc-rs create_answer: {e}"))?;
    answerer
        .pc
        .set_local_description(answer)
        .await
        .map_err(|e| format!("webrtc-rs set_local_description(answer): {e}"))?;
    let answer = answerer.gathered_description(GATHER).await?;
    offerer
        .pc
        .set_remote_description(answer)
        .await
        .map_err(|e| format!("webrtc-rs set_remote_description(answer): {e}"))
}
