//! Links libspeexdsp, whose jitter buffer is a peer of the jitter bench
//! (src/peers/speex_jitter.rs declares the few functions it uses).

fn main() {
    // pkg-config prints the link flags; 1.2 is the first release with the
    // jitter buffer in speexdsp rather than speex. Debian: libspeexdsp-dev.
    if let Err(e) = pkg_config::Config::new()
        .atleast_version("1.2")
        .probe("speexdsp")
    {
        panic!(
            "libspeexdsp >= 1.2 not found by pkg-config ({e}); \
             install libspeexdsp-dev (scripts/bootstrap.sh does)"
        );
    }
}
