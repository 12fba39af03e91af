//! Reed–Solomon over GF(2^8) (primitive polynomial 0x11d, generator α = 2, first
//! consecutive root α^0), systematic, with errors-and-erasures decoding
//! (Berlekamp–Massey on Forney syndromes, Chien search, Forney's algorithm).
//!
//! Written here rather than taken from a crate: the only crates.io crate that corrects
//! errors (not only erasures) at unknown positions, `reed-solomon` 0.2, has not been
//! released since 2017. The algorithms follow the textbook formulation ("Reed–Solomon
//! codes for coders"); the property tests in `tests/` check round trips at and beyond
//! the designed capacity. Pure: no I/O.

use std::fmt;

const fn build_tables() -> ([u8; 512], [u8; 256]) {
    let mut exp = [0u8; 512];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= 0x11d;
        }
        i += 1;
    }
    while i < 512 {
        exp[i] = exp[i - 255];
        i += 1;
    }
    (exp, log)
}

const TABLES: ([u8; 512], [u8; 256]) = build_tables();
const EXP: [u8; 512] = TABLES.0;
const LOG: [u8; 256] = TABLES.1;

fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        EXP[usize::from(LOG[usize::from(a)]) + usize::from(LOG[usize::from(b)])]
    }
}

fn inv(a: u8) -> u8 {
    debug_assert!(a != 0, "zero has no inverse in GF(256)");
    EXP[255 - usize::from(LOG[usize::from(a)])]
}

fn div(a: u8, b: u8) -> u8 {
    if a == 0 { 0 } else { mul(a, inv(b)) }
}

/// α^e for any integer exponent.
fn alpha_pow(e: i64) -> u8 {
    EXP[e.rem_euclid(255) as usize]
}

// Polynomials are coefficient vectors, highest degree first.

fn poly_scale(p: &[u8], x: u8) -> Vec<u8> {
    p.iter().map(|&c| mul(c, x)).collect()
}

fn poly_add(p: &[u8], q: &[u8]) -> Vec<u8> {
    let n = p.len().max(q.len());
    let mut r = vec![0u8; n];
    for (i, &c) in p.iter().enumerate() {
        r[i + n - p.len()] = c;
    }
    for (i, &c) in q.iter().enumerate() {
        r[i + n - q.len()] ^= c;
    }
    r
}

fn poly_mul(p: &[u8], q: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; p.len() + q.len() - 1];
    for (j, &qj) in q.iter().enumerate() {
        for (i, &pi) in p.iter().enumerate() {
            r[i + j] ^= mul(pi, qj);
        }
    }
    r
}

fn poly_eval(p: &[u8], x: u8) -> u8 {
    p.iter().fold(0, |acc, &c| mul(acc, x) ^ c)
}

/// Why a received word could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsError {
    /// More errors and erasures than the code corrects (2·errors + erasures > parity).
    TooManyErrors,
}

impl fmt::Display for RsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too many symbol errors for the error-correcting code")
    }
}

/// A Reed–Solomon code with `parity` check symbols.
#[derive(Clone, Debug)]
pub struct ReedSolomon {
    parity: usize,
    generator: Vec<u8>,
}

impl ReedSolomon {
    /// A code with `parity` check symbols (it corrects `parity / 2` errors, or `parity`
    /// erasures, or any mix with `2·errors + erasures ≤ parity`).
    pub fn new(parity: usize) -> Self {
        assert!((1..255).contains(&parity), "parity must be 1..=254 symbols");
        let mut generator = vec![1u8];
        for i in 0..parity {
            generator = poly_mul(&generator, &[1, alpha_pow(i as i64)]);
        }
        ReedSolomon { parity, generator }
    }

    /// The number of check symbols.
    pub fn parity(&self) -> usize {
        self.parity
    }

    /// Computes the check symbols of `message` into `parity_out` (length [`parity`](Self::parity)).
    pub fn encode_into(&self, message: &[u8], parity_out: &mut [u8]) {
        assert_eq!(parity_out.len(), self.parity);
        assert!(
            message.len() + self.parity <= 255,
            "codeword longer than 255 symbols"
        );
        parity_out.fill(0);
        // Synthetic division of message·x^parity by the (monic) generator.
        for &m in message {
            let coef = m ^ parity_out[0];
            parity_out.copy_within(1.., 0);
            parity_out[self.parity - 1] = 0;
            if coef != 0 {
                for (p, &g) in parity_out.iter_mut().zip(&self.generator[1..]) {
                    *p ^= mul(g, coef);
                }
            }
        }
    }

    fn syndromes(&self, word: &[u8]) -> Vec<u8> {
        // A leading zero keeps the indexing of the textbook formulation.
        let mut s = vec![0u8; self.parity + 1];
        for i in 0..self.parity {
            s[i + 1] = poly_eval(word, alpha_pow(i as i64));
        }
        s
    }

    /// Corrects `word` (message followed by check symbols) in place. `erasures` are
    /// indices into `word` whose symbols are known to be unreliable. Returns the number of
    /// symbols changed.
    pub fn correct(&self, word: &mut [u8], erasures: &[usize]) -> Result<usize, RsError> {
        let n = word.len();
        assert!(n <= 255 && n > self.parity, "codeword length out of range");
        let mut erasures: Vec<usize> = erasures.iter().copied().filter(|&e| e < n).collect();
        erasures.sort_unstable();
        erasures.dedup();
        if erasures.len() > self.parity {
            return Err(RsError::TooManyErrors);
        }
        let original = word.to_vec();
        for &e in &erasures {
            word[e] = 0;
        }
        let synd = self.syndromes(word);
        if synd.iter().all(|&s| s == 0) {
            return Ok(count_changes(&original, word));
        }
        let fsynd = forney_syndromes(&synd, &erasures, n);
        let err_loc = self.error_locator(&fsynd, erasures.len())?;
        let mut rev = err_loc.clone();
        rev.reverse();
        let errors = chien_search(&rev, n).ok_or(RsError::TooManyErrors)?;
        let mut positions = erasures;
        positions.extend(errors);
        correct_errata(word, &synd, &positions)?;
        if self.syndromes(word).iter().any(|&s| s != 0) {
            word.copy_from_slice(&original);
            return Err(RsError::TooManyErrors);
        }
        Ok(count_changes(&original, word))
    }

    /// Berlekamp–Massey on the Forney syndromes.
    fn error_locator(&self, fsynd: &[u8], erasure_count: usize) -> Result<Vec<u8>, RsError> {
        let mut err_loc = vec![1u8];
        let mut old_loc = vec![1u8];
        for k in 0..self.parity - erasure_count {
            let mut delta = fsynd[k];
            for j in 1..err_loc.len() {
                delta ^= mul(err_loc[err_loc.len() - 1 - j], fsynd[k - j]);
            }
            old_loc.push(0);
            if delta != 0 {
                if old_loc.len() > err_loc.len() {
                    let new_loc = poly_scale(&old_loc, delta);
                    old_loc = poly_scale(&err_loc, inv(delta));
                    err_loc = new_loc;
                }
                err_loc = poly_add(&err_loc, &poly_scale(&old_loc, delta));
            }
        }
        let lead = err_loc.iter().position(|&c| c != 0).unwrap_or(err_loc.len());
        err_loc.drain(..lead);
        let errors = err_loc.len().saturating_sub(1);
        if 2 * errors + erasure_count > self.parity {
            return Err(RsError::TooManyErrors);
        }
        Ok(err_loc)
    }
}

fn count_changes(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

/// Syndromes with the erasures' contribution removed.
fn forney_syndromes(synd: &[u8], erasures: &[usize], n: usize) -> Vec<u8> {
    let mut fsynd = synd[1..].to_vec();
    for &pos in erasures {
        let x = alpha_pow((n - 1 - pos) as i64);
        for j in 0..fsynd.len() - 1 {
            fsynd[j] = mul(fsynd[j], x) ^ fsynd[j + 1];
        }
    }
    fsynd
}

/// Roots of the (reversed) error locator: the error positions, or `None` when the
/// locator does not split into as many roots as its degree.
fn chien_search(err_loc_rev: &[u8], n: usize) -> Option<Vec<usize>> {
    let degree = err_loc_rev.len() - 1;
    let positions: Vec<usize> = (0..n)
        .filter(|&i| poly_eval(err_loc_rev, alpha_pow(i as i64)) == 0)
        .map(|i| n - 1 - i)
        .collect();
    (positions.len() == degree).then_some(positions)
}

/// Forney's algorithm: the error magnitudes at the known `positions`, applied to `word`.
fn correct_errata(word: &mut [u8], synd: &[u8], positions: &[usize]) -> Result<(), RsError> {
    let n = word.len();
    let coef_pos: Vec<usize> = positions.iter().map(|&p| n - 1 - p).collect();
    let mut loc = vec![1u8];
    for &c in &coef_pos {
        loc = poly_mul(&loc, &[alpha_pow(c as i64), 1]);
    }
    let mut synd_rev = synd.to_vec();
    synd_rev.reverse();
    let product = poly_mul(&synd_rev, &loc);
    let keep = loc.len();
    let evaluator = &product[product.len() - keep..];
    let xs: Vec<u8> = coef_pos.iter().map(|&c| alpha_pow(c as i64)).collect();
    for (i, &xi) in xs.iter().enumerate() {
        let xi_inv = inv(xi);
        let denom = xs
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .fold(1u8, |acc, (_, &xj)| mul(acc, 1 ^ mul(xi_inv, xj)));
        if denom == 0 {
            return Err(RsError::TooManyErrors);
        }
        let y = mul(xi, poly_eval(evaluator, xi_inv));
        word[positions[i]] ^= div(y, denom);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_tables_are_consistent() {
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1);
        }
        assert_eq!(mul(0x53, 0xca), mul(0xca, 0x53));
    }

    #[test]
    fn corrects_errors_and_erasures() {
        let rs = ReedSolomon::new(10);
        let msg: Vec<u8> = (0u8..20).map(|i| i.wrapping_mul(37)).collect();
        let mut par = [0u8; 10];
        rs.encode_into(&msg, &mut par);
        let clean: Vec<u8> = msg.iter().chain(&par).copied().collect();
        let mut w = clean.clone();
        for p in [0, 7, 13, 21, 29] {
            w[p] ^= 0x5a;
        }
        assert_eq!(rs.correct(&mut w, &[]), Ok(5));
        assert_eq!(w, clean);
        let mut w = clean.clone();
        for p in [1, 2, 3, 4] {
            w[p] = 0;
        }
        w[25] ^= 1;
        w[26] ^= 2;
        w[27] ^= 3;
        assert_eq!(rs.correct(&mut w, &[1, 2, 3, 4]), Ok(7));
        assert_eq!(w, clean);
    }
}
