//! The harness's own Engine.IO v4 / Socket.IO v5 client codec.
//!
//! It is deliberately independent of socketioxide so that it can catch
//! socketioxide's bugs, and sans-IO (no sockets, no async) so that it can be
//! tested exhaustively. Decoding is strict: anything a server sends that breaks
//! the protocol is a [`ProtocolViolation`] carrying the exact bytes and the rule
//! they break, never a panic, whatever the input.

mod binary_assembler;
mod engineio_packet;
mod polling_payload;
mod round_trip;
mod socketio_packet;
mod violation;

pub use binary_assembler::BinaryAssembler;
pub use engineio_packet::{EioPacket, Handshake};
pub use polling_payload::{
    MAX_PACKETS_PER_PAYLOAD, decode_polling_payload, encode_polling_payload,
};
pub use round_trip::check_round_trips;
pub use socketio_packet::{
    DEFAULT_NAMESPACE, MAX_ATTACHMENTS, RESERVED_EVENT_NAMES, SioDecoded, SioPacket, SioPacketKind,
};
pub use violation::ProtocolViolation;
