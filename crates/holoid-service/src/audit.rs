//! The audit log: a hash chain whose entries are the leaves of an append-only Merkle tree
//! (RFC 6962/9162 shape), with signed tree heads.
//!
//! - Each entry's hash covers the previous entry's hash and every field of the entry, so an
//!   edited, deleted, inserted or reordered entry breaks the chain there.
//! - The log's *tree head* — size, Merkle root, time, the log's identity, the newest entry's
//!   hash, the key id — is signed by the service's key. Entries cut off the end no longer
//!   reach the head; a rewritten log cannot get a head without the key.
//! - Heads leave the database (`GET /v1/audit/head`, the witness file); a head saved earlier
//!   catches what a database writer can do with a consistent-looking database: a wipe, a
//!   rollback to an older state, a log replaced or rewritten ([`verify`]'s `saved`), and
//!   [`consistency_proof`] shows any later head extends it without the entries.
//!
//! Pure: no I/O. The store persists entries and heads; [`verify`] checks what it reads back.

use std::collections::HashMap;
use std::fmt;

use holoid_core::keys::{IssuerPublic, IssuerSecret};
use holoid_core::mac::sha256;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

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

/// Bytes as lower-case hex in JSON (serde `with`).
mod hex_bytes {
    use holoid_core::encoding::{from_hex, to_hex};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer, const N: usize>(b: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(d)?;
        from_hex::<N>(&text).map_err(|_| D::Error::custom(format!("expected {N} bytes of hex")))
    }
}

/// A signed tree head: the log's size and Merkle root (RFC 6962/9162 shape) with the time it
/// was signed, the log's identity, the newest entry's chain hash and the signing key's id.
/// Served at `GET /v1/audit/head` and appended to the witness file, one JSON line per head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// The log's identity: 16 random bytes chosen when the log began. A wiped database that
    /// starts a new log has another.
    #[serde(with = "hex_bytes")]
    pub log_id: [u8; LOG_ID_LEN],
    /// How many entries the log holds (0: none).
    pub size: i64,
    /// The RFC 6962 Merkle tree hash over the entries' leaves ([`leaf_hash`]).
    #[serde(with = "hex_bytes")]
    pub root: [u8; 32],
    /// When the head was signed, Unix milliseconds (never earlier than the head before).
    pub time_ms: i64,
    /// The newest entry's chain hash ([`GENESIS`] when empty): a server about to append checks
    /// the newest stored entry against it.
    #[serde(with = "hex_bytes")]
    pub last_entry_hash: [u8; 32],
    /// [`IssuerPublic::key_id`] of the key that signed.
    pub key_id: String,
    /// Ed25519 over [`TreeHead::message`].
    #[serde(with = "hex_bytes")]
    pub signature: [u8; 64],
}

/// How many bytes a log id has.
pub const LOG_ID_LEN: usize = 16;

impl TreeHead {
    /// What the signature covers: `"holoid/v2/audit-tree-head"`, the log id, size, root, time,
    /// newest entry hash and the key id (length-prefixed).
    pub fn message(&self) -> Vec<u8> {
        let mut m = b"holoid/v2/audit-tree-head".to_vec();
        m.extend_from_slice(&self.log_id);
        m.extend_from_slice(&self.size.to_be_bytes());
        m.extend_from_slice(&self.root);
        m.extend_from_slice(&self.time_ms.to_be_bytes());
        m.extend_from_slice(&self.last_entry_hash);
        push_field(&mut m, self.key_id.as_bytes());
        m
    }

    /// The head over `frontier` (whose newest entry hashes to `last_entry_hash`), signed now.
    pub fn sign(
        log_id: [u8; LOG_ID_LEN],
        frontier: &Frontier,
        last_entry_hash: [u8; 32],
        time_ms: i64,
        key: &IssuerSecret,
    ) -> TreeHead {
        let mut head = TreeHead {
            log_id,
            size: frontier.size() as i64,
            root: frontier.root(),
            time_ms,
            last_entry_hash,
            key_id: key.public().key_id(),
            signature: [0; 64],
        };
        head.signature = key.sign(&head.message());
        head
    }

    /// Whether `key` signed this head (and the key id names it).
    pub fn is_signed_by(&self, key: &IssuerPublic) -> bool {
        self.key_id == key.key_id() && key.verify(&self.message(), &self.signature)
    }

    /// Whether one of `keys` (the current copy key and retired ones) signed this head.
    pub fn is_signed_by_any(&self, keys: &[IssuerPublic]) -> bool {
        keys.iter().any(|k| self.is_signed_by(k))
    }

    /// The log id as hex.
    pub fn log_id_hex(&self) -> String {
        holoid_core::encoding::to_hex(&self.log_id)
    }
}

/// What a version-1 head (before the Merkle log) signed: `"holoid/v1/audit-head" ‖ seq ‖ hash`.
/// Read once, when a version-1 database is upgraded.
pub fn legacy_head_message(seq: i64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = b"holoid/v1/audit-head".to_vec();
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// RFC 6962 leaf hash of an entry: `SHA-256(0x00 ‖ entry hash)`.
pub fn leaf_hash(entry_hash: &[u8; 32]) -> [u8; 32] {
    sha256(&[&[0x00], entry_hash])
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    sha256(&[&[0x01], left, right])
}

/// The right edge of the Merkle tree: the hashes of its perfect subtrees, largest first, one
/// per set bit of the size. Enough to append a leaf and compute the root in O(log n); stored
/// beside the head (it is checked against the signed root before every append).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<[u8; 32]>,
}

impl Frontier {
    /// The empty tree's.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// How many leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: [u8; 32]) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            let Some(left) = self.nodes.pop() else { break };
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    /// The Merkle tree hash (RFC 6962 §2.1; `SHA-256()` of nothing for the empty tree).
    pub fn root(&self) -> [u8; 32] {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return sha256(&[]);
        };
        nodes.fold(*last, |right, left| node_hash(left, &right))
    }

    /// The stored form: the subtree hashes in hex, concatenated.
    pub fn to_text(&self) -> String {
        self.nodes
            .iter()
            .map(|n| holoid_core::encoding::to_hex(n))
            .collect()
    }

    /// Reads [`Frontier::to_text`] for a tree of `size` leaves; `None` when it does not fit.
    pub fn from_text(size: i64, text: &str) -> Option<Frontier> {
        let size = u64::try_from(size).ok()?;
        if text.len() != 64 * size.count_ones() as usize || !text.is_ascii() {
            return None;
        }
        let nodes = (0..text.len() / 64)
            .map(|i| holoid_core::encoding::from_hex::<32>(&text[64 * i..64 * (i + 1)]).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(Frontier { size, nodes })
    }
}

/// An RFC 6962 consistency proof that the log's first `old_size` entries are the first entries
/// of the log of `entry_hashes` (all its entries' chain hashes, in order); `None` when
/// `old_size` is 0 or larger than the log.
pub fn consistency_proof(entry_hashes: &[[u8; 32]], old_size: u64) -> Option<Vec<[u8; 32]>> {
    let size = entry_hashes.len() as u64;
    if old_size == 0 || old_size > size {
        return None;
    }
    let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::<Sha256, [u8; 32]>::new();
    for h in entry_hashes {
        tree.push(*h);
    }
    let proof = tree.prove_consistency((size - old_size) as usize);
    Some(
        proof
            .as_bytes()
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap_or([0; 32]))
            .collect(),
    )
}

/// Whether `proof` shows that the log of head `old` is a prefix of the log of head `new`
/// (the heads' signatures are not checked here).
pub fn verify_consistency(old: &TreeHead, new: &TreeHead, proof: &[[u8; 32]]) -> bool {
    if old.log_id != new.log_id || old.size < 0 || new.size < old.size {
        return false;
    }
    if old.size == 0 {
        return proof.is_empty();
    }
    if old.size == new.size {
        return proof.is_empty() && old.root == new.root;
    }
    let root = |h: &TreeHead| ct_merkle::RootHash::<Sha256>::new(h.root.into(), h.size as u64);
    let proof = ct_merkle::ConsistencyProof::<Sha256>::from_digests(proof.iter().map(|d| d.into()));
    root(new).verify_consistency(&root(old), &proof).is_ok()
}

/// Where the log breaks, named.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditBreak {
    /// Entry `expected` is missing: the next entry read is `found` (deleted).
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
    /// The entry stored at `seq` is entry `was`, intact, moved: the entries were reordered.
    Reordered {
        /// Where it is stored.
        seq: i64,
        /// Where its own hash says it belongs.
        was: i64,
    },
    /// Entry `seq` does not link to the entry before it (an entry before it was replaced).
    Unlinked {
        /// The entry.
        seq: i64,
    },
    /// The log ends at `last` but the signed head says `head`: entries were cut off the end
    /// (or the head row was replaced).
    HeadMismatch {
        /// The last entry read (0: none).
        last: i64,
        /// The signed head's size.
        head: i64,
    },
    /// The head's signature is not the service key's: the head row was rewritten (a rewritten
    /// log cannot be signed without the key).
    BadHeadSignature,
    /// There are entries but no signed head.
    NoHead,
    /// A saved head's signature is not the service key's: it cannot be used as evidence.
    BadSavedHead {
        /// The saved head's size.
        size: i64,
    },
    /// The log is empty but a head saved earlier had `saved` entries: the log was wiped.
    Wiped {
        /// The saved head's size.
        saved: i64,
    },
    /// The database's log is another log than the one a saved head belongs to (wiped and
    /// started again, or another deployment's database).
    Replaced {
        /// The saved head's log id.
        saved: String,
        /// The database's.
        found: String,
    },
    /// The log is intact up to its signed head of `size` entries, but a head saved earlier had
    /// `saved`: an older state of the database (head row included) was put back.
    RolledBack {
        /// The database's size.
        size: i64,
        /// The saved head's size.
        saved: i64,
    },
    /// The first `size` entries are not those a head saved earlier signed: the log was
    /// rewritten (and its chain recomputed).
    Rewritten {
        /// The saved head's size.
        size: i64,
    },
}

impl fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditBreak::Gap { expected, found } => write!(
                f,
                "entry {expected} is missing (the next entry is {found}): deleted"
            ),
            AuditBreak::Edited { seq } => {
                write!(f, "entry {seq} was edited: its hash does not match its fields")
            }
            AuditBreak::Reordered { seq, was } => write!(
                f,
                "the entry stored as {seq} is entry {was}: the entries were reordered"
            ),
            AuditBreak::Unlinked { seq } => write!(
                f,
                "entry {seq} does not follow entry {}: an entry was replaced",
                seq - 1
            ),
            AuditBreak::HeadMismatch { last, head } => write!(
                f,
                "the log ends at entry {last} but the signed head is at entry {head}: entries were removed from the end"
            ),
            AuditBreak::BadHeadSignature => write!(
                f,
                "the signed head's signature is not the service's: the head was rewritten"
            ),
            AuditBreak::NoHead => write!(f, "the log has entries but no signed head"),
            AuditBreak::BadSavedHead { size } => write!(
                f,
                "the saved head of {size} entries is not signed by the service's key (nor by a \
                 retired copy key given: --retired-copy-pub after a rotation)"
            ),
            AuditBreak::Wiped { saved } => write!(
                f,
                "the log is empty but a saved head had {saved} entries: the log was wiped"
            ),
            AuditBreak::Replaced { saved, found } => write!(
                f,
                "the database holds log {found}, not log {saved} of the saved head: the log was replaced"
            ),
            AuditBreak::RolledBack { size, saved } => write!(
                f,
                "the log has {size} entries but a saved head had {saved}: the database was rolled back"
            ),
            AuditBreak::Rewritten { size } => write!(
                f,
                "the first {size} entries are not the ones the saved head signed: the log was rewritten"
            ),
        }
    }
}

impl std::error::Error for AuditBreak {}

/// Where a stored entry belongs by its own hash chain: following `prev_hash` links back to
/// the genesis gives its original sequence number, when the links are intact.
fn original_seq(entries: &[AuditEntry], at: usize) -> Option<i64> {
    let by_hash: HashMap<[u8; 32], usize> = entries.iter().enumerate().map(|(i, e)| (e.hash, i)).collect();
    let mut depth = 1;
    let mut prev = entries[at].prev_hash;
    while prev != GENESIS {
        let i = *by_hash.get(&prev)?;
        prev = entries[i].prev_hash;
        depth += 1;
        if depth > entries.len() as i64 {
            return None;
        }
    }
    Some(depth)
}

/// Checks the entries, read in sequence order, against the signed head and the service's
/// public copy keys (`keys`: the current one and retired ones, each head checked against the
/// key its key id names), and against heads saved earlier (`saved`: from `GET
/// /v1/audit/head` or a witness file); returns the number of entries on success.
pub fn verify(
    entries: &[AuditEntry],
    head: Option<&TreeHead>,
    keys: &[IssuerPublic],
    saved: &[TreeHead],
) -> Result<i64, AuditBreak> {
    if let Some(bad) = saved.iter().find(|s| !s.is_signed_by_any(keys)) {
        return Err(AuditBreak::BadSavedHead { size: bad.size });
    }
    if let Some(head) = head
        && let Some(other) = saved.iter().find(|s| s.log_id != head.log_id)
    {
        return Err(AuditBreak::Replaced {
            saved: other.log_id_hex(),
            found: head.log_id_hex(),
        });
    }
    let mut saved_at: HashMap<i64, Vec<&TreeHead>> = HashMap::new();
    for s in saved {
        saved_at.entry(s.size).or_default().push(s);
    }
    let mut prev = GENESIS;
    let mut expected = 1;
    let mut frontier = Frontier::new();
    for (i, e) in entries.iter().enumerate() {
        if e.seq != expected {
            return Err(AuditBreak::Gap {
                expected,
                found: e.seq,
            });
        }
        if entry_hash(&e.prev_hash, e.seq, &e.event) != e.hash {
            return Err(match original_seq(entries, i) {
                Some(was) if was != e.seq && entry_hash(&e.prev_hash, was, &e.event) == e.hash => {
                    AuditBreak::Reordered { seq: e.seq, was }
                }
                _ => AuditBreak::Edited { seq: e.seq },
            });
        }
        if e.prev_hash != prev {
            return Err(AuditBreak::Unlinked { seq: e.seq });
        }
        prev = e.hash;
        expected += 1;
        frontier.push(leaf_hash(&e.hash));
        if let Some(heads) = saved_at.get(&e.seq) {
            let root = frontier.root();
            if heads
                .iter()
                .any(|s| s.root != root || s.last_entry_hash != e.hash)
            {
                return Err(AuditBreak::Rewritten { size: e.seq });
            }
        }
    }
    let last = expected - 1;
    let newest_saved = saved.iter().map(|s| s.size).max().unwrap_or(0);
    let Some(head) = head else {
        return match (last, newest_saved) {
            (0, 0) => Ok(0),
            (0, saved) => Err(AuditBreak::Wiped { saved }),
            _ => Err(AuditBreak::NoHead),
        };
    };
    if !head.is_signed_by_any(keys) {
        return Err(AuditBreak::BadHeadSignature);
    }
    if head.size != last || head.last_entry_hash != prev || head.root != frontier.root() {
        return Err(AuditBreak::HeadMismatch {
            last,
            head: head.size,
        });
    }
    match (last, newest_saved) {
        (0, s) if s > 0 => Err(AuditBreak::Wiped { saved: s }),
        (size, s) if s > size => Err(AuditBreak::RolledBack { size, saved: s }),
        _ => Ok(last),
    }
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

    const LOG: [u8; LOG_ID_LEN] = [3; LOG_ID_LEN];

    /// `n` entries from `events`, and the head over them signed by `key`.
    fn log_of(events: impl Iterator<Item = AuditEvent>, key: &IssuerSecret) -> (Vec<AuditEntry>, TreeHead) {
        let (mut seq, mut hash) = (0, GENESIS);
        let mut frontier = Frontier::new();
        let mut out = Vec::new();
        for e in events {
            let e = next_entry(seq, hash, e);
            (seq, hash) = (e.seq, e.hash);
            frontier.push(leaf_hash(&e.hash));
            out.push(e);
        }
        let head = TreeHead::sign(LOG, &frontier, hash, 1_795_603_800_000 + seq, key);
        (out, head)
    }

    fn chain(n: i64, key: &IssuerSecret) -> (Vec<AuditEntry>, TreeHead) {
        log_of((0..n).map(event), key)
    }

    #[test]
    fn the_frontier_gives_ct_merkles_root_and_survives_storage() {
        let mut frontier = Frontier::new();
        let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::<Sha256, [u8; 32]>::new();
        for i in 0u8..70 {
            let h = sha256(&[&[i]]);
            frontier.push(leaf_hash(&h));
            tree.push(h);
            let want: [u8; 32] = (*tree.root().as_bytes()).into();
            assert_eq!(frontier.root(), want, "size {}", i + 1);
            let back = Frontier::from_text(frontier.size() as i64, &frontier.to_text());
            assert_eq!(back.as_ref(), Some(&frontier));
            assert_eq!(
                Frontier::from_text(2 * frontier.size() as i64 + 1, &frontier.to_text()),
                None
            );
        }
        assert_eq!(Frontier::new().root(), sha256(&[]));
    }

    #[test]
    fn consistency_proofs_hold_between_every_pair_of_sizes_and_fail_when_altered() {
        let key = IssuerSecret::from_bytes([7; 32]);
        let (entries, _) = chain(19, &key);
        let hashes: Vec<[u8; 32]> = entries.iter().map(|e| e.hash).collect();
        let head_at = |n: usize| log_of((0..n as i64).map(event), &key).1;
        for new in 1..=hashes.len() {
            let new_head = head_at(new);
            for old in 1..=new {
                let old_head = head_at(old);
                let proof = consistency_proof(&hashes[..new], old as u64).unwrap();
                assert!(verify_consistency(&old_head, &new_head, &proof), "{old} → {new}");
                if let Some(first) = proof.first() {
                    let mut bent = proof.clone();
                    bent[0] = sha256(&[first]);
                    assert!(!verify_consistency(&old_head, &new_head, &bent), "{old} → {new}");
                }
                let mut other = old_head.clone();
                other.root = sha256(&[&other.root]);
                assert!(!verify_consistency(&other, &new_head, &proof), "{old} → {new}");
            }
        }
        assert_eq!(consistency_proof(&hashes, 0), None);
        assert_eq!(consistency_proof(&hashes, 20), None);
    }

    #[test]
    fn an_intact_log_verifies_and_every_tampering_is_named() {
        let key = IssuerSecret::from_bytes([7; 32]);
        let ring = [key.public()];
        let (entries, head) = chain(5, &key);
        assert_eq!(verify(&entries, Some(&head), &ring, &[]), Ok(5));
        assert_eq!(verify(&[], None, &ring, &[]), Ok(0));
        let json = serde_json::to_string(&head).unwrap();
        assert_eq!(serde_json::from_str::<TreeHead>(&json).unwrap(), head);

        let mut edited = entries.clone();
        edited[2].event.office = "busan".into();
        assert_eq!(
            verify(&edited, Some(&head), &ring, &[]),
            Err(AuditBreak::Edited { seq: 3 })
        );

        let mut deleted = entries.clone();
        deleted.remove(1);
        assert_eq!(
            verify(&deleted, Some(&head), &ring, &[]),
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
            verify(&reordered, Some(&head), &ring, &[]),
            Err(AuditBreak::Reordered { seq: 2, was: 3 })
        );

        // A forged entry rehashed consistently still does not link to its successor.
        let mut forged = entries.clone();
        forged[3].event.subject = "other".into();
        forged[3].hash = entry_hash(&forged[3].prev_hash, 4, &forged[3].event);
        assert_eq!(
            verify(&forged, Some(&head), &ring, &[]),
            Err(AuditBreak::Unlinked { seq: 5 })
        );

        let mut cut = entries.clone();
        cut.pop();
        assert_eq!(
            verify(&cut, Some(&head), &ring, &[]),
            Err(AuditBreak::HeadMismatch { last: 4, head: 5 })
        );

        let other = IssuerSecret::from_bytes([8; 32]);
        let (_, forged_head) = chain(5, &other);
        assert_eq!(
            verify(&entries, Some(&forged_head), &ring, &[]),
            Err(AuditBreak::BadHeadSignature)
        );
        let mut resigned = head.clone();
        resigned.time_ms += 1;
        assert_eq!(
            verify(&entries, Some(&resigned), &ring, &[]),
            Err(AuditBreak::BadHeadSignature)
        );
        assert_eq!(verify(&entries, None, &ring, &[]), Err(AuditBreak::NoHead));
    }

    #[test]
    fn a_saved_head_catches_a_wipe_a_rollback_a_replacement_and_a_rewrite() {
        let key = IssuerSecret::from_bytes([7; 32]);
        let ring = [key.public()];
        let (entries, head) = chain(6, &key);
        let (_, older) = chain(4, &key);
        assert_eq!(
            verify(&entries, Some(&head), &ring, &[older.clone(), head.clone()]),
            Ok(6)
        );

        // Wiped: no entries, the head row back to its initial state.
        assert_eq!(
            verify(&[], None, &ring, std::slice::from_ref(&head)),
            Err(AuditBreak::Wiped { saved: 6 })
        );
        // Rolled back: the database as it was at 4 entries, head row included.
        let (old_entries, old_head) = chain(4, &key);
        assert_eq!(
            verify(&old_entries, Some(&old_head), &ring, std::slice::from_ref(&head)),
            Err(AuditBreak::RolledBack { size: 4, saved: 6 })
        );
        // Replaced: a new log begun under another id.
        let mut new_log = head.clone();
        new_log.log_id = [9; LOG_ID_LEN];
        new_log.signature = key.sign(&new_log.message());
        assert_eq!(
            verify(&entries, Some(&new_log), &ring, std::slice::from_ref(&head)),
            Err(AuditBreak::Replaced {
                saved: head.log_id_hex(),
                found: new_log.log_id_hex()
            })
        );
        // Rewritten: entry 2 changed and the chain recomputed, even with a fresh head signed by
        // the key (a server that re-signed a forgery): the saved head of 4 entries catches it.
        let (rewritten, resigned) = log_of(
            (0..6).map(|i| {
                if i == 1 {
                    AuditEvent {
                        office: "busan".into(),
                        ..event(i)
                    }
                } else {
                    event(i)
                }
            }),
            &key,
        );
        assert_eq!(verify(&rewritten, Some(&resigned), &ring, &[]), Ok(6));
        assert_eq!(
            verify(&rewritten, Some(&resigned), &ring, &[older]),
            Err(AuditBreak::Rewritten { size: 4 })
        );
        // A saved head not signed by the service is no evidence.
        let (_, foreign) = chain(3, &IssuerSecret::from_bytes([8; 32]));
        assert_eq!(
            verify(&entries, Some(&head), &ring, &[foreign]),
            Err(AuditBreak::BadSavedHead { size: 3 })
        );
    }

    #[test]
    fn heads_signed_by_a_retired_key_verify_only_with_it_in_the_ring() {
        let (old, new) = (
            IssuerSecret::from_bytes([7; 32]),
            IssuerSecret::from_bytes([8; 32]),
        );
        let (entries, saved) = chain(4, &old);
        let (entries, head) = log_of(
            entries.iter().map(|e| e.event.clone()).chain((4..6).map(event)),
            &new,
        );
        let ring = [new.public(), old.public()];
        assert_eq!(
            verify(&entries, Some(&head), &ring, std::slice::from_ref(&saved)),
            Ok(6)
        );
        assert_eq!(
            verify(&entries, Some(&head), &ring[..1], std::slice::from_ref(&saved)),
            Err(AuditBreak::BadSavedHead { size: 4 })
        );
        // A head naming the new key's id but signed by the old key is not accepted.
        let mut forged = head.clone();
        forged.signature = old.sign(&forged.message());
        assert_eq!(
            verify(&entries, Some(&forged), &ring, &[]),
            Err(AuditBreak::BadHeadSignature)
        );
    }
}
