//! The cbor format (placeholder until the codec lands).

use super::{Elements, Format, Kind, Serializer};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value};
use bytes::{Bytes, BytesMut};

/// The cbor serializer.
pub(crate) struct Cbor;

impl Format for Cbor {
    const SERIALIZER: Serializer = Serializer::Cbor;

    fn split(_frame: &[u8]) -> Result<Elements, DecodeError> {
        Err(DecodeError::Malformed("cbor codec not built yet"))
    }
    fn read_uint(_elem: &[u8]) -> Option<u64> {
        None
    }
    fn read_text(_frame: &Bytes, _range: std::ops::Range<usize>) -> Option<Text> {
        None
    }
    fn read_dict(_elem: &[u8]) -> Result<Option<Dict>, DecodeError> {
        Ok(None)
    }
    fn read_value(_elem: &[u8]) -> Result<Value, DecodeError> {
        Err(DecodeError::Malformed("cbor codec not built yet"))
    }
    fn kind(_elem: &[u8]) -> Kind {
        Kind::Other
    }
    fn list_open(_out: &mut BytesMut, _len: usize) {}
    fn list_sep(_out: &mut BytesMut) {}
    fn list_close(_out: &mut BytesMut) {}
    fn write_uint(_out: &mut BytesMut, _v: u64) {}
    fn write_str(_out: &mut BytesMut, _s: &str) {}
    fn write_dict(_out: &mut BytesMut, _d: &Dict) {}
    fn write_value(_out: &mut BytesMut, _v: &Value) {}
}
