//! The audio test tooling itself: WAV files through `media_core::audio::wav` and WB-PESQ
//! through `scripts/score_pesq.py`. If these fail, the call tests' scores mean nothing.

#[path = "support/pesq.rs"]
mod pesq;

use std::path::PathBuf;

use media_core::audio::wav::{WavError, read_wav, write_wav};

fn scratch(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pesq-tooling-{name}.wav"))
}

#[test]
fn a_sample_written_back_is_identical_and_scores_near_the_top() {
    let speech = read_wav(pesq::speech_a()).expect("read speech-a");
    assert_eq!((speech.sample_rate, speech.channels), (48_000, 1));
    // make-speech.sh makes 12–15 s of speech.
    let seconds = speech.samples.len() as f64 / 48_000.0;
    assert!((12.0..15.0).contains(&seconds), "{seconds} s");

    let copy = scratch("copy");
    write_wav(&copy, 48_000, 1, &speech.samples).expect("write copy");
    assert_eq!(read_wav(&copy).expect("read copy"), speech);

    let score = pesq::pesq_wb(&pesq::speech_a(), &copy);
    println!("identical copy: WB-PESQ {score:.3}");
    assert!(score > 4.4, "identical copy scored {score}");
}

#[test]
fn gaps_of_20_ms_every_200_ms_score_low() {
    let mut speech = read_wav(pesq::speech_a()).expect("read speech-a").samples;
    // 960 samples zeroed out of every 9600: 10 % of the signal, no concealment.
    for block in speech.chunks_mut(9600) {
        let n = block.len().min(960);
        block[..n].fill(0);
    }
    let gaps = scratch("gaps");
    write_wav(&gaps, 48_000, 1, &speech).expect("write");
    let score = pesq::pesq_wb(&pesq::speech_a(), &gaps);
    println!("20 ms gap every 200 ms: WB-PESQ {score:.3}");
    assert!(score < 3.0, "gapped copy scored {score}");
}

#[test]
fn only_16_bit_pcm_is_read() {
    let missing = scratch("does-not-exist");
    let err = read_wav(&missing).expect_err("missing file");
    assert!(matches!(err, WavError::File { .. }), "{err:?}");
    assert!(err.to_string().contains("does-not-exist"), "{err}");

    let float = scratch("float");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&float, spec).expect("create");
    w.write_sample(0.5f32).expect("sample");
    w.finalize().expect("finalize");
    let err = read_wav(&float).expect_err("float file");
    assert!(
        matches!(
            err,
            WavError::Format {
                bits: 32,
                format: "float",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("16-bit PCM"), "{err}");
}
