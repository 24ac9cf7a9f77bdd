//! Transports: RawSocket and WebSocket framing, driven over glommio streams.
