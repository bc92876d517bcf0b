//! WAV files (16-bit PCM) for demos, tests and benchmarks, through the `hound` crate.

use std::path::Path;

use thiserror::Error;

/// A decoded WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// Samples per second.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Interleaved 16-bit samples.
    pub samples: Vec<i16>,
}

/// Why a WAV file could not be read or written.
#[derive(Debug, Error)]
pub enum WavError {
    /// The file could not be opened, read or written, or is not a WAV file.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        source: hound::Error,
    },
    /// The file is WAV, but not 16-bit integer PCM.
    #[error("{path}: {bits}-bit {format} samples; MediaCore reads 16-bit PCM")]
    Format {
        /// The file.
        path: String,
        /// Bits per sample.
        bits: u16,
        /// Integer or float.
        format: &'static str,
    },
}

/// Reads a 16-bit PCM WAV file.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Wav, WavError> {
    let path = path.as_ref();
    let name = || path.display().to_string();
    let mut reader = hound::WavReader::open(path).map_err(|source| WavError::File {
        path: name(),
        source,
    })?;
    let spec = reader.spec();
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(WavError::Format {
            path: name(),
            bits: spec.bits_per_sample,
            format: match spec.sample_format {
                hound::SampleFormat::Int => "integer",
                hound::SampleFormat::Float => "float",
            },
        });
    }
    let samples = reader
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| WavError::File {
            path: name(),
            source,
        })?;
    Ok(Wav {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

/// Writes interleaved 16-bit samples as a PCM WAV file.
pub fn write_wav(
    path: impl AsRef<Path>,
    sample_rate: u32,
    channels: u16,
    samples: &[i16],
) -> Result<(), WavError> {
    let path = path.as_ref();
    let err = |source| WavError::File {
        path: path.display().to_string(),
        source,
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(err)?;
    let mut w = writer.get_i16_writer(samples.len() as u32);
    for &s in samples {
        w.write_sample(s);
    }
    w.flush().map_err(err)?;
    writer.finalize().map_err(err)
}
