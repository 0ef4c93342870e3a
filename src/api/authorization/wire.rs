//! Check answers encoded straight from the decision.
//!
//! A decided check is written into the response buffer from its parts (the
//! reason's pieces, the grant's names, the ids formatted on the stack): no
//! `String` is built for the reason or the grant, and nothing is copied twice.
//! The bytes are those prost writes for the same [`pb::CheckResponse`]
//! (fields in tag order, defaults left out), so clients see no difference.
//! Errors and other answers are messages, encoded by prost.

use prost::{
    DecodeError, Message,
    bytes::{Buf, BufMut},
    encoding::{
        DecodeContext, WireType, encode_key, encode_varint, encoded_len_varint, skip_field,
    },
};

use super::explain::{Explained, Parts};
use crate::proto::v1 as pb;

/// One answer to a check.
pub(super) enum WireAnswer {
    Decided(Explained),
    Message(pb::CheckResponse),
}

impl WireAnswer {
    /// The same answer as a message.
    pub(super) fn into_message(self) -> pb::CheckResponse {
        match self {
            Self::Decided(e) => e.into_message(),
            Self::Message(m) => m,
        }
    }
}

impl From<pb::CheckResponse> for WireAnswer {
    fn from(message: pb::CheckResponse) -> Self {
        Self::Message(message)
    }
}

/// Bytes of a length-delimited field `tag` of `len` bytes, key included.
fn delimited_len(tag: u32, len: usize) -> usize {
    prost::encoding::key_len(tag) + encoded_len_varint(len as u64) + len
}

/// A string field, left out when empty as proto3 does.
fn string_len(tag: u32, text: &[u8]) -> usize {
    if text.is_empty() {
        0
    } else {
        delimited_len(tag, text.len())
    }
}

fn put_string(tag: u32, text: &[u8], buf: &mut impl BufMut) {
    if !text.is_empty() {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(text.len() as u64, buf);
        buf.put_slice(text);
    }
}

/// The reason (field 4) from its parts.
fn put_parts(tag: u32, parts: &Parts<'_>, len: usize, buf: &mut impl BufMut) {
    if len > 0 {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(len as u64, buf);
        for part in parts.as_slice() {
            buf.put_slice(part);
        }
    }
}

/// Bytes of a `Grant`'s body.
pub(super) fn grant_body_len(fields: &[&[u8]; 6]) -> usize {
    (1..=6).zip(fields).map(|(tag, f)| string_len(tag, f)).sum()
}

/// A varint field, left out when zero.
fn varint_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        prost::encoding::key_len(tag) + encoded_len_varint(value)
    }
}

fn put_varint(tag: u32, value: u64, buf: &mut impl BufMut) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value, buf);
    }
}

impl Explained {
    fn wire_len(&self) -> usize {
        let reason = if self.reason_len == 0 {
            0
        } else {
            delimited_len(4, self.reason_len)
        };
        let grant = if self.decision.granted_by.is_some() {
            delimited_len(7, self.grant_len)
        } else {
            0
        };
        string_len(1, self.correlation_id.as_bytes())
            + varint_len(2, u64::from(self.decision.allowed))
            + varint_len(3, self.decision.revision)
            + reason
            + varint_len(6, self.reason_code() as u64)
            + grant
    }

    fn put(&self, buf: &mut impl BufMut) {
        put_string(1, self.correlation_id.as_bytes(), buf);
        put_varint(2, u64::from(self.decision.allowed), buf);
        put_varint(3, self.decision.revision, buf);
        put_parts(4, &self.reason(), self.reason_len, buf);
        // Field 5 (`error`) is never set on a decided answer.
        put_varint(6, self.reason_code() as u64, buf);
        if let Some(grant) = self.grant() {
            encode_key(7, WireType::LengthDelimited, buf);
            encode_varint(self.grant_len as u64, buf);
            for (tag, field) in (1..=6).zip(grant) {
                put_string(tag, field, buf);
            }
        }
    }
}

impl Message for WireAnswer {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self {
            Self::Decided(e) => e.put(buf),
            Self::Message(m) => m.encode_raw(buf),
        }
    }

    /// Answers are only ever encoded (clients decode `pb::CheckResponse`):
    /// decoding one skips every field.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        match self {
            Self::Decided(e) => e.wire_len(),
            Self::Message(m) => m.encoded_len(),
        }
    }

    fn clear(&mut self) {
        *self = Self::Message(pb::CheckResponse::default());
    }
}

/// The answer to a BatchCheck: its answers in request order.
pub(super) struct WireBatch {
    pub(super) results: Vec<WireAnswer>,
}

impl WireBatch {
    pub(super) fn into_message(self) -> pb::BatchCheckResponse {
        pb::BatchCheckResponse {
            results: self
                .results
                .into_iter()
                .map(WireAnswer::into_message)
                .collect(),
        }
    }
}

impl Message for WireBatch {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for answer in &self.results {
            encode_key(1, WireType::LengthDelimited, buf);
            encode_varint(answer.encoded_len() as u64, buf);
            answer.encode_raw(buf);
        }
    }

    /// Answers are only ever encoded (clients decode `pb::CheckResponse`):
    /// decoding one skips every field.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.results
            .iter()
            .map(|a| delimited_len(1, a.encoded_len()))
            .sum()
    }

    fn clear(&mut self) {
        self.results.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AssignmentId, NodeId, RoleId};
    use crate::engine::{Decision, GrantedBy, Reason};

    use super::super::explain::tests::queries;

    fn decisions() -> Vec<Decision> {
        let mut all: Vec<Decision> = [
            Reason::NoMatchingAssignment,
            Reason::IdentityNotActive,
            Reason::UnknownIdentity,
            Reason::UnknownNode,
        ]
        .into_iter()
        .map(|reason| Decision {
            allowed: false,
            // Revision 0 is left out on the wire, as prost does.
            revision: 0,
            reason,
            granted_by: None,
        })
        .collect();
        for (role, key, pattern, revision) in [
            ("Reader", "wallet:42", "Docs:*", 9),
            (
                "A role with a name longer than twenty-four bytes",
                "a-node-key-longer-than-twenty-four-bytes",
                "Service3:Resource7:Action4:*",
                // Takes more than one byte as a varint.
                1 << 40,
            ),
        ] {
            all.push(Decision {
                allowed: true,
                revision,
                reason: Reason::Granted,
                granted_by: Some(GrantedBy {
                    assignment_id: AssignmentId::generate(),
                    role_id: RoleId::generate(),
                    role_name: role.into(),
                    node_id: NodeId::generate(),
                    node_key: key.into(),
                    pattern: pattern.into(),
                }),
            });
        }
        all
    }

    /// Every decided answer is the bytes prost writes for the same message,
    /// alone and inside a batch, with and without a correlation id; and a
    /// reason longer than 127 bytes (a two-byte length) is among them.
    #[test]
    fn decided_answers_encode_as_their_messages() {
        let mut batch = Vec::new();
        let mut messages = Vec::new();
        for query in queries() {
            for decision in decisions() {
                for correlation_id in ["", "q17"] {
                    let answer = || {
                        WireAnswer::Decided(Explained::new(
                            correlation_id.into(),
                            query.clone(),
                            decision.clone(),
                        ))
                    };
                    let message = answer().into_message();
                    let wire = answer();
                    assert_eq!(wire.encoded_len(), message.encoded_len());
                    assert_eq!(wire.encode_to_vec(), message.encode_to_vec());
                    assert_eq!(
                        pb::CheckResponse::decode(wire.encode_to_vec().as_slice()).unwrap(),
                        message
                    );
                    batch.push(wire);
                    messages.push(message);
                }
            }
        }
        assert!(messages.iter().any(|m| m.reason.len() > 127));
        // An item's error rides along as a message.
        let error = pb::CheckResponse {
            correlation_id: "bad".into(),
            error: Some(tonic_types::pb::Status {
                code: 3,
                message: "permission: is required".into(),
                details: Vec::new(),
            }),
            ..Default::default()
        };
        batch.push(WireAnswer::from(error.clone()));
        messages.push(error);
        let wire = WireBatch { results: batch };
        let message = pb::BatchCheckResponse { results: messages };
        assert_eq!(wire.encoded_len(), message.encoded_len());
        assert_eq!(wire.encode_to_vec(), message.encode_to_vec());
    }
}
