//! Real-time drivers for tests of calls over real sockets: waiting for a call's state, and
//! running audio sides 10 ms a tick against the wall clock.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use media_core::call::AudioSide;
use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent};
use media_core::net::transport::TransportState;

/// Waits until `call` reports `wanted`; returns every event seen, that one last. Panics on
/// the call ending or the time running out, with the events seen.
pub async fn wait_for_state(
    call: &Call,
    wanted: TransportState,
    within: Duration,
) -> Vec<CallEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, call.next_event()).await {
            Ok(Some(event)) => {
                let done = event == CallEvent::Session(SessionEvent::State(wanted));
                seen.push(event);
                if done {
                    return seen;
                }
            }
            Ok(None) => panic!("call ended before {wanted:?}: {seen:?}"),
            Err(_) => panic!("no {wanted:?} within {within:?}: {seen:?}"),
        }
    }
}

/// Waits for the first event `call` reports that `wanted` accepts; returns every event
/// seen, that one last. Panics on the call ending or the time running out.
pub async fn wait_for_event(
    call: &Call,
    within: Duration,
    wanted: impl Fn(&CallEvent) -> bool,
) -> Vec<CallEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, call.next_event()).await {
            Ok(Some(event)) => {
                let done = wanted(&event);
                seen.push(event);
                if done {
                    return seen;
                }
            }
            Ok(None) => panic!("call ended: {seen:?}"),
            Err(_) => panic!("no such event within {within:?}: {seen:?}"),
        }
    }
}

/// Runs each audio side for `ticks` 10 ms ticks in real time, capturing its speech (then
/// silence) and recording its playout; returns what each side heard, in order.
pub fn talk(mut sides: Vec<(AudioSide, &[i16])>, ticks: usize) -> Vec<Vec<i16>> {
    let mut heard: Vec<Vec<i16>> = sides
        .iter()
        .map(|_| Vec::with_capacity(ticks * 480))
        .collect();
    let mut out = [0i16; 480];
    let start = Instant::now();
    for tick in 0..ticks {
        let due = start + Duration::from_millis(10 * tick as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let now = Instant::now();
        for ((side, speech), heard) in sides.iter_mut().zip(&mut heard) {
            let mut frame = [0i16; 480];
            let at = tick * 480;
            if at < speech.len() {
                let n = (speech.len() - at).min(480);
                frame[..n].copy_from_slice(&speech[at..at + n]);
            }
            side.process(now, &frame, &mut out).expect("audio tick");
            heard.extend_from_slice(&out);
        }
    }
    for (i, (side, _)) in sides.iter().enumerate() {
        println!(
            "side {i}: capture overruns {}, jitter buffer {:?}",
            side.capture_overruns(),
            side.jitter_stats()
        );
    }
    heard
}
