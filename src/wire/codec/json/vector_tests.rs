//! The JSON samples of the WAMP test vectors (read from `../shared` or
//! `SWITCHYARD_VECTORS` when present) decode, and re-encode byte for byte.

use crate::wire::codec::{decode, encode_to_bytes, Serializer};
use bytes::Bytes;

#[test]
fn vector_samples_decode() {
    let dir = std::env::var("SWITCHYARD_VECTORS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/wamp/vectors/singlemessage"
        )
        .into()
    });
    let files = vector_files(std::path::Path::new(&dir));
    if files.is_empty() {
        eprintln!("note: no WAMP test vectors under {dir}; skipping");
        return;
    }
    let mut count = 0;
    for file in files {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for sample in doc["samples"].as_array().unwrap() {
            for frame in json_frames(sample) {
                let msg = decode(Serializer::Json, Bytes::from(frame.clone()))
                    .unwrap_or_else(|e| panic!("{}: {e}: {}", file.display(), hex_str(&frame)));
                let again = encode_to_bytes(Serializer::Json, &msg);
                assert_eq!(decode(Serializer::Json, again.clone()).unwrap(), msg);
                let compact = !frame.windows(2).any(|w| w == b", " || w == b": ");
                if compact {
                    assert_eq!(&again[..], &frame[..], "{}", file.display());
                }
                count += 1;
            }
        }
    }
    assert!(count > 50, "only {count} samples");
}

fn vector_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(vector_files(&p));
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The JSON frames of a sample: its `json` serializer entries (hex bytes),
/// or a validation sample's `wmsg` re-serialized.
fn json_frames(sample: &serde_json::Value) -> Vec<Vec<u8>> {
    if let Some(wmsg) = sample.get("wmsg") {
        return vec![serde_json::to_vec(wmsg).unwrap()];
    }
    let Some(list) = sample["serializers"]["json"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .map(|s| {
            let hex = s["bytes_hex"].as_str().unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

fn hex_str(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
