//! Check requests read straight from the request's bytes.
//!
//! Check, BatchCheck and CheckStream read their `CheckRequest`s here: one pass
//! over the bytes with the fields known in advance, where prost merges field by
//! field through a length-limited reader per nested message (about a quarter of
//! a streamed check's CPU in the server, by `perf`). A message this reader does
//! not expect — a field it does not know or given twice, another wire type,
//! text that is not UTF-8, a malformed varint — is left to prost, so every
//! request decodes to what prost makes of it, errors included.

use prost::bytes::Buf;
use tonic::{
    Status,
    codec::{BufferSettings, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;

use crate::proto::{
    codec::{Codec, MessageDecoder},
    v1 as pb,
};

/// [`Codec`], with requests read by [`Read`] first.
#[derive(Debug, Clone)]
pub(super) struct ReadingCodec<T, U>(Codec<T, U>);

impl<T, U> Default for ReadingCodec<T, U> {
    fn default() -> Self {
        Self(Codec::default())
    }
}

impl<T, U> tonic::codec::Codec for ReadingCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: Read + prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ReadingDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.0.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ReadingDecoder(self.0.decoder())
    }
}

/// Reads a message with [`Read`], or else decodes it with prost.
#[derive(Debug, Clone)]
pub(super) struct ReadingDecoder<U>(MessageDecoder<U>);

impl<U: Read + prost::Message + Default> Decoder for ReadingDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let len = buf.remaining();
        // One message, contiguous in the receive buffer.
        let read = (buf.chunk().len() == len)
            .then(|| U::read(buf.chunk()))
            .flatten();
        match read {
            Some(message) => {
                buf.advance(len);
                Ok(Some(message))
            }
            None => self.0.decode(buf),
        }
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}

/// A message read in one pass; `None` when prost must decode it instead.
pub(super) trait Read: Sized {
    fn read(bytes: &[u8]) -> Option<Self>;
}

impl Read for pb::CheckRequest {
    fn read(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let mut m = Self::default();
        let mut seen = Fields::default();
        while !r.0.is_empty() {
            let (tag, wire) = r.key()?;
            seen.first(tag)?;
            match (tag, wire) {
                (1, LEN) => m.correlation_id = r.text()?,
                (2, LEN) => m.identity = Some(identity(r.delimited()?)?),
                (3, LEN) => m.permission = r.text()?,
                (4, LEN) => m.node = Some(node(r.delimited()?)?),
                (5, LEN) => m.at = Some(timestamp(r.delimited()?)?),
                (6, VARINT) => m.min_revision = r.varint()?,
                _ => return None,
            }
        }
        Some(m)
    }
}

impl Read for pb::BatchCheckRequest {
    fn read(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let mut checks = Vec::new();
        while !r.0.is_empty() {
            match r.key()? {
                (1, LEN) => checks.push(pb::CheckRequest::read(r.delimited()?)?),
                _ => return None,
            }
        }
        Some(Self { checks })
    }
}

const VARINT: u8 = 0;
const LEN: u8 = 2;

/// The fields of a message seen so far: a second occurrence is prost's to merge.
#[derive(Default)]
struct Fields(u64);

impl Fields {
    fn first(&mut self, tag: u32) -> Option<()> {
        let bit = 1u64.checked_shl(tag)?;
        if self.0 & bit != 0 {
            return None;
        }
        self.0 |= bit;
        Some(())
    }
}

fn identity(bytes: &[u8]) -> Option<pb::IdentityRef> {
    use pb::identity_ref::Ref;
    let r#ref = text_oneof(bytes, |tag, text| match tag {
        1 => Some(Ref::Id(text)),
        2 => Some(Ref::ExternalId(text)),
        3 => Some(Ref::Email(text)),
        _ => None,
    })?;
    Some(pb::IdentityRef { r#ref })
}

fn node(bytes: &[u8]) -> Option<pb::NodeRef> {
    use pb::node_ref::Ref;
    let r#ref = text_oneof(bytes, |tag, text| match tag {
        1 => Some(Ref::Id(text)),
        2 => Some(Ref::Key(text)),
        _ => None,
    })?;
    Some(pb::NodeRef { r#ref })
}

/// The variant `variant` makes of the one text field set in a message whose
/// fields are a oneof of texts (`Some(None)` when none is set); `None` for
/// anything else.
fn text_oneof<T>(bytes: &[u8], variant: impl Fn(u32, String) -> Option<T>) -> Option<Option<T>> {
    let mut r = Reader(bytes);
    let mut chosen = None;
    while !r.0.is_empty() {
        let (tag, wire) = r.key()?;
        if wire != LEN || chosen.is_some() {
            return None;
        }
        chosen = Some(variant(tag, r.text()?)?);
    }
    Some(chosen)
}

fn timestamp(bytes: &[u8]) -> Option<prost_types::Timestamp> {
    let mut r = Reader(bytes);
    let mut at = prost_types::Timestamp::default();
    let mut seen = Fields::default();
    while !r.0.is_empty() {
        let (tag, wire) = r.key()?;
        seen.first(tag)?;
        // int64 and int32 as prost reads them: the varint's low bits.
        match (tag, wire) {
            (1, VARINT) => at.seconds = r.varint()? as i64,
            (2, VARINT) => at.nanos = r.varint()? as i32,
            _ => return None,
        }
    }
    Some(at)
}

/// The unread rest of a message.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A varint of at most ten bytes, the tenth no more than 1, as prost accepts.
    #[inline]
    fn varint(&mut self) -> Option<u64> {
        let (&first, rest) = self.0.split_first()?;
        if first < 0x80 {
            self.0 = rest;
            return Some(u64::from(first));
        }
        let mut value = 0u64;
        for (i, &byte) in self.0.iter().enumerate().take(10) {
            if i == 9 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.0 = &self.0[i + 1..];
                return Some(value);
            }
        }
        None
    }

    fn key(&mut self) -> Option<(u32, u8)> {
        let key = u32::try_from(self.varint()?).ok()?;
        Some((key >> 3, (key & 7) as u8))
    }

    fn delimited(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        if len > self.0.len() {
            return None;
        }
        let (field, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(field)
    }

    fn text(&mut self) -> Option<String> {
        std::str::from_utf8(self.delimited()?)
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn requests() -> Vec<pb::CheckRequest> {
        use pb::{identity_ref::Ref as I, node_ref::Ref as N};
        let identities = [
            None,
            Some(pb::IdentityRef { r#ref: None }),
            Some(pb::IdentityRef {
                r#ref: Some(I::Id("0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into())),
            }),
            Some(pb::IdentityRef {
                r#ref: Some(I::ExternalId("auth0|123".into())),
            }),
            Some(pb::IdentityRef {
                r#ref: Some(I::Email("Jane@Example.com".into())),
            }),
        ];
        let nodes = [
            None,
            Some(pb::NodeRef {
                r#ref: Some(N::Id("0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d".into())),
            }),
            Some(pb::NodeRef {
                r#ref: Some(N::Key("wallet:42".repeat(20))),
            }),
        ];
        let ats = [
            None,
            Some(prost_types::Timestamp::default()),
            Some(prost_types::Timestamp {
                seconds: -62_135_596_800,
                nanos: 999_999_999,
            }),
        ];
        let mut all = Vec::new();
        for identity in &identities {
            for node in &nodes {
                for at in &ats {
                    for (correlation_id, min_revision) in [("", 0), ("c-1", u64::MAX), ("7", 300)] {
                        all.push(pb::CheckRequest {
                            correlation_id: correlation_id.into(),
                            identity: identity.clone(),
                            permission: "Docs:Read".into(),
                            node: node.clone(),
                            at: *at,
                            min_revision,
                        });
                    }
                }
            }
        }
        all
    }

    #[test]
    fn reads_what_prost_decodes() {
        let all = requests();
        for request in &all {
            let bytes = request.encode_to_vec();
            assert_eq!(pb::CheckRequest::read(&bytes).as_ref(), Some(request));
        }
        let batch = pb::BatchCheckRequest { checks: all };
        assert_eq!(
            pb::BatchCheckRequest::read(&batch.encode_to_vec()),
            Some(batch)
        );
        assert_eq!(pb::BatchCheckRequest::read(&[]), Some(Default::default()));
    }

    /// Every message cut short, every byte changed, and fields given twice:
    /// whatever is read is what prost decodes; the rest is left to prost.
    #[test]
    fn leaves_to_prost_what_it_does_not_read_as_prost_does() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for request in requests().iter().step_by(7) {
            let bytes = request.encode_to_vec();
            for cut in 0..bytes.len() {
                inputs.push(bytes[..cut].to_vec());
            }
            for at in 0..bytes.len() {
                for byte in [0x00, 0x01, 0x08, 0x0a, 0x12, 0x7f, 0x80, 0xff] {
                    let mut changed = bytes.clone();
                    changed[at] = byte;
                    inputs.push(changed);
                }
            }
            inputs.push([bytes.clone(), bytes].concat());
        }
        inputs.push(vec![
            0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        inputs.push(vec![
            0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ]);
        let mut read = 0;
        for bytes in &inputs {
            let decoded = pb::CheckRequest::decode(bytes.as_slice());
            if let Some(m) = pb::CheckRequest::read(bytes) {
                read += 1;
                assert_eq!(decoded.as_ref().ok(), Some(&m), "{bytes:?}");
            }
        }
        assert!(read > inputs.len() / 4, "{read} of {}", inputs.len());
    }
}
