//! Lowercase hexadecimal, the text encoding of keys, hashes and signatures in holoid's
//! files. Pure functions; no I/O.

/// `bytes` as lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Why a hex string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HexError {
    /// A character that is not a hex digit, at this byte offset of the string.
    BadDigit(usize),
    /// The string has this many digits, but exactly `expected` were wanted.
    WrongLength { expected: usize, found: usize },
}

/// Decodes exactly `N` bytes from hex (either case).
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    if let Some(pos) = s.bytes().position(|c| !c.is_ascii_hexdigit()) {
        return Err(HexError::BadDigit(pos));
    }
    if s.len() != 2 * N {
        return Err(HexError::WrongLength {
            expected: 2 * N,
            found: s.len(),
        });
    }
    let mut out = [0u8; N];
    let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
        out[i] = digit(pair[0]) << 4 | digit(pair[1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(to_hex(&b), "0001abff");
        assert_eq!(from_hex::<4>("0001ABff"), Ok(b));
        assert_eq!(
            from_hex::<4>("0001abf"),
            Err(HexError::WrongLength {
                expected: 8,
                found: 7
            })
        );
        assert_eq!(from_hex::<4>("0001abfg"), Err(HexError::BadDigit(7)));
    }
}
