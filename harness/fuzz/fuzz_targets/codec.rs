//! The harness's own codec on any bytes: it never panics, and whatever it
//! decodes, it encodes back to something that decodes to the same packets.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use siosim_harness::codec::{BinaryAssembler, EioPacket, check_round_trips};

fuzz_target!(|data: &[u8]| {
    let _ = EioPacket::decode_binary_frame(data);
    let mut assembler = BinaryAssembler::new();
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = assembler.push_binary(Bytes::copy_from_slice(data));
        return;
    };
    if let Err(broken) = check_round_trips(text) {
        panic!("{broken}");
    }
    // A text part, then the same bytes as its attachments, in any state.
    if assembler.push_text(text).is_ok() {
        for _ in 0..assembler.missing_attachments().min(4) {
            let _ = assembler.push_binary(Bytes::copy_from_slice(data));
        }
    }
});
