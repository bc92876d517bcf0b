// Prints the library's version, then makes an engine and a call and prints the size of the
// call's SDP offer: MediaCore's C ABI from Swift, every handle and string freed.
import MediaCore

func check(_ status: mc_status, _ what: String) {
    if status != MC_OK {
        fatalError("\(what) -> \(status): \(String(cString: mc_last_error_message()))")
    }
}

func offerLines() -> Int {
    var engine: OpaquePointer?
    check(mc_engine_new(nil, &engine), "mc_engine_new")
    defer { mc_engine_free(engine) }

    var options = mc_call_options()
    check(mc_call_options_default(&options), "mc_call_options_default")
    var call: OpaquePointer?
    // The options' strings need to live only during mc_call_new.
    "127.0.0.1".withCString { address in
        options.bind_address = address
        check(mc_call_new(engine, &options, &call), "mc_call_new")
    }
    defer { mc_call_free(call) }

    var sdp: UnsafeMutablePointer<CChar>?
    check(mc_call_create_offer(call, &sdp), "mc_call_create_offer")
    defer { mc_string_free(sdp) }
    return String(cString: sdp!).split(whereSeparator: \.isNewline).count
}

guard mc_abi_version() == UInt32(MC_ABI_VERSION) else {
    fatalError("library ABI \(mc_abi_version()), header ABI \(MC_ABI_VERSION)")
}
print("MediaCore \(String(cString: mc_version())) (Swift)")
print("offer: \(offerLines()) SDP lines")
