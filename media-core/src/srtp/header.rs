//! The few header fields SRTP needs, read without a full parse.

use super::error::SrtpError;

/// The RTP header fields SRTP protection depends on.
pub(crate) struct RtpHeaderInfo {
    /// Where the payload (the encrypted part) starts.
    pub(crate) header_len: usize,
    pub(crate) ssrc: u32,
    pub(crate) seq: u16,
}

/// Reads the header length, SSRC and sequence number of an RTP packet.
pub(crate) fn rtp_header(packet: &[u8]) -> Result<RtpHeaderInfo, SrtpError> {
    let truncated = |needed| SrtpError::Truncated {
        needed,
        len: packet.len(),
    };
    if packet.len() < 12 {
        return Err(truncated(12));
    }
    let version = packet[0] >> 6;
    if version != 2 {
        return Err(SrtpError::BadVersion(version));
    }
    let mut header_len = 12 + 4 * usize::from(packet[0] & 0x0F);
    if packet[0] & 0x10 != 0 {
        let ext = packet
            .get(header_len + 2..header_len + 4)
            .ok_or(truncated(header_len + 4))?;
        header_len += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    if packet.len() < header_len {
        return Err(truncated(header_len));
    }
    Ok(RtpHeaderInfo {
        header_len,
        ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        seq: u16::from_be_bytes([packet[2], packet[3]]),
    })
}

/// Length of the RTCP header SRTCP leaves in the clear: the first header and sender SSRC.
pub(crate) const RTCP_CLEAR_LEN: usize = 8;

/// Checks the first RTCP header and reads the sender SSRC.
pub(crate) fn rtcp_ssrc(packet: &[u8], needed: usize) -> Result<u32, SrtpError> {
    if packet.len() < needed {
        return Err(SrtpError::Truncated {
            needed,
            len: packet.len(),
        });
    }
    let version = packet[0] >> 6;
    if version != 2 {
        return Err(SrtpError::BadVersion(version));
    }
    Ok(u32::from_be_bytes([
        packet[4], packet[5], packet[6], packet[7],
    ]))
}
