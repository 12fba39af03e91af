//! The audit log's hash chain and its check. Each entry's hash covers the previous entry's
//! hash and every field of the entry, and the newest (sequence, hash) is signed by the
//! service's key as the *head*; so an edited, deleted, inserted or reordered entry breaks the
//! chain at that entry, and entries cut off the end no longer reach the signed head.
//!
//! Pure: no I/O. The store persists entries and heads; [`verify`] checks what it reads back.

use std::fmt;

use holoid_core::keys::{IssuerPublic, IssuerSecret};
use holoid_core::mac::sha256;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// What an entry records. No personal data: ids, roles, offices and actions only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// When, Unix milliseconds.
    pub at_ms: i64,
    /// Who: the id of the token used (not a person's name).
    pub actor: String,
    /// The actor's office.
    pub office: String,
    /// What: `check`, `copy_create`, `copy_read`, `copy_delete`, `copy_expire`,
    /// `credential_register`.
    pub action: String,
    /// On what: a check, copy or credential id.
    pub subject: String,
}

/// One stored entry: its place in the chain, the event, and the hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// The event.
    pub event: AuditEvent,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: [u8; 32],
    /// This entry's hash: [`entry_hash`].
    pub hash: [u8; 32],
}

/// The newest entry's sequence number and hash, signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHead {
    /// The newest entry's sequence number (0: no entries).
    pub seq: i64,
    /// Its hash ([`GENESIS`] when there are no entries).
    pub hash: [u8; 32],
    /// Ed25519 over [`head_message`].
    pub signature: [u8; 64],
}

fn push_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// `SHA-256("holoid/v1/audit" ‖ prev ‖ seq ‖ each field length-prefixed)`.
pub fn entry_hash(prev: &[u8; 32], seq: i64, e: &AuditEvent) -> [u8; 32] {
    let mut fields = Vec::with_capacity(64 + e.actor.len() + e.office.len() + e.subject.len());
    fields.extend_from_slice(&seq.to_be_bytes());
    fields.extend_from_slice(&e.at_ms.to_be_bytes());
    for f in [&e.actor, &e.office, &e.action, &e.subject] {
        push_field(&mut fields, f.as_bytes());
    }
    sha256(&[b"holoid/v1/audit", prev, &fields])
}

/// The entry that follows `head` (sequence and hash of the newest entry).
pub fn next_entry(head_seq: i64, head_hash: [u8; 32], event: AuditEvent) -> AuditEntry {
    let seq = head_seq + 1;
    let hash = entry_hash(&head_hash, seq, &event);
    AuditEntry {
        seq,
        event,
        prev_hash: head_hash,
        hash,
    }
}

/// What a head signature covers: `"holoid/v1/audit-head" ‖ seq ‖ hash`.
pub fn head_message(seq: i64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = b"holoid/v1/audit-head".to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// The head for the newest entry `(seq, hash)`, signed with `key`.
pub fn sign_head(seq: i64, hash: [u8; 32], key: &IssuerSecret) -> SignedHead {
    SignedHead {
        seq,
        hash,
        signature: key.sign(&head_message(seq, &hash)),
    }
}

/// Where the chain breaks, named by sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditBreak {
    /// Entry `expected` is missing: the next entry read is `found` (deleted or reordered).
    Gap {
        /// The sequence number that should come next.
        expected: i64,
        /// The one read instead.
        found: i64,
    },
    /// Entry `seq`'s fields do not give its stored hash: it was edited.
    Edited {
        /// The entry.
        seq: i64,
    },
    /// Entry `seq` does not link to the entry before it (an entry before it was replaced, or
    /// the entries were reordered).
    Unlinked {
        /// The entry.
        seq: i64,
    },
    /// The log ends at `last` but the signed head says `head`: entries were cut off the end
    /// (or the head is from another log).
    HeadMismatch {
        /// The last entry read (0: none).
        last: i64,
        /// The signed head's sequence number.
        head: i64,
    },
    /// The head's signature is not the service key's.
    BadHeadSignature,
    /// There are entries but no signed head.
    NoHead,
}

impl fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditBreak::Gap { expected, found } => write!(
                f,
                "entry {expected} is missing (the next entry is {found}): deleted or reordered"
            ),
            AuditBreak::Edited { seq } => {
                write!(f, "entry {seq} was edited: its hash does not match its fields")
            }
            AuditBreak::Unlinked { seq } => write!(
                f,
                "entry {seq} does not follow entry {}: an entry was replaced or the entries reordered",
                seq - 1
            ),
            AuditBreak::HeadMismatch { last, head } => write!(
                f,
                "the log ends at entry {last} but the signed head is at entry {head}: entries were removed from the end"
            ),
            AuditBreak::BadHeadSignature => write!(f, "the signed head's signature is not the service's"),
            AuditBreak::NoHead => write!(f, "the log has entries but no signed head"),
        }
    }
}

impl std::error::Error for AuditBreak {}

/// Checks entries read in sequence order against the signed head and the service's public
/// key; returns the number of entries on success.
pub fn verify(
    entries: impl IntoIterator<Item = AuditEntry>,
    head: Option<&SignedHead>,
    key: &IssuerPublic,
) -> Result<i64, AuditBreak> {
    let mut prev = GENESIS;
    let mut expected = 1;
    for e in entries {
        if e.seq != expected {
            return Err(AuditBreak::Gap {
                expected,
                found: e.seq,
            });
        }
        if entry_hash(&e.prev_hash, e.seq, &e.event) != e.hash {
            return Err(AuditBreak::Edited { seq: e.seq });
        }
        if e.prev_hash != prev {
            return Err(AuditBreak::Unlinked { seq: e.seq });
        }
        prev = e.hash;
        expected += 1;
    }
    let last = expected - 1;
    let Some(head) = head else {
        return if last == 0 { Ok(0) } else { Err(AuditBreak::NoHead) };
    };
    if !key.verify(&head_message(head.seq, &head.hash), &head.signature) {
        return Err(AuditBreak::BadHeadSignature);
    }
    if head.seq != last || head.hash != prev {
        return Err(AuditBreak::HeadMismatch { last, head: head.seq });
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: i64) -> AuditEvent {
        AuditEvent {
            at_ms: 1_795_603_792_000 + i,
            actor: format!("tok{i}"),
            office: "seoul-jongno".into(),
            action: "copy_create".into(),
            subject: format!("copy{i}"),
        }
    }

    fn chain(n: i64, key: &IssuerSecret) -> (Vec<AuditEntry>, SignedHead) {
        let (mut seq, mut hash) = (0, GENESIS);
        let mut out = Vec::new();
        for i in 0..n {
            let e = next_entry(seq, hash, event(i));
            (seq, hash) = (e.seq, e.hash);
            out.push(e);
        }
        (out, sign_head(seq, hash, key))
    }

    #[test]
    fn an_intact_chain_verifies_and_every_tampering_is_named() {
        let key = IssuerSecret::from_bytes([7; 32]);
        let public = key.public();
        let (entries, head) = chain(5, &key);
        assert_eq!(verify(entries.clone(), Some(&head), &public), Ok(5));
        assert_eq!(verify(Vec::new(), None, &public), Ok(0));

        let mut edited = entries.clone();
        edited[2].event.office = "busan".into();
        assert_eq!(
            verify(edited, Some(&head), &public),
            Err(AuditBreak::Edited { seq: 3 })
        );

        let mut deleted = entries.clone();
        deleted.remove(1);
        assert_eq!(
            verify(deleted, Some(&head), &public),
            Err(AuditBreak::Gap {
                expected: 2,
                found: 3
            })
        );

        // Swapped rows with their sequence numbers rewritten to look in order.
        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        reordered[1].seq = 2;
        reordered[2].seq = 3;
        assert_eq!(
            verify(reordered, Some(&head), &public),
            Err(AuditBreak::Edited { seq: 2 })
        );

        // A forged entry rehashed consistently still does not link to its predecessor.
        let mut forged = entries.clone();
        forged[3].event.subject = "other".into();
        forged[3].hash = entry_hash(&forged[3].prev_hash, 4, &forged[3].event);
        assert_eq!(
            verify(forged, Some(&head), &public),
            Err(AuditBreak::Unlinked { seq: 5 })
        );

        let mut cut = entries.clone();
        cut.pop();
        assert_eq!(
            verify(cut, Some(&head), &public),
            Err(AuditBreak::HeadMismatch { last: 4, head: 5 })
        );

        let other = IssuerSecret::from_bytes([8; 32]);
        let forged_head = sign_head(head.seq, head.hash, &other);
        assert_eq!(
            verify(entries.clone(), Some(&forged_head), &public),
            Err(AuditBreak::BadHeadSignature)
        );
        assert_eq!(verify(entries, None, &public), Err(AuditBreak::NoHead));
    }
}
