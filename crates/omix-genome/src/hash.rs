//! A stable, streaming 64-bit hash of bytes and files, for cache keys and resume fingerprints.

use std::io::{self, Read};
use std::path::Path;

/// 64-bit FNV-1a, fed in pieces: stable across runs and platforms (unlike `DefaultHasher`), so a value saved
/// in one run can be compared in the next. Not cryptographic: it detects changes, not tampering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentHash(u64);

impl Default for ContentHash {
    fn default() -> Self {
        ContentHash(0xcbf2_9ce4_8422_2325)
    }
}

impl ContentHash {
    /// A hash of nothing yet.
    pub fn new() -> ContentHash {
        ContentHash::default()
    }

    /// Feed `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut hash = self.0;
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    /// The hash of everything fed so far.
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> u64 {
        let mut hash = ContentHash::new();
        hash.update(bytes);
        hash.value()
    }
}

/// The size in bytes and the [`ContentHash`] of every byte of the file at `path`, read in 1 MiB pieces.
pub fn hash_file(path: &Path) -> io::Result<(u64, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    let mut hash = ContentHash::new();
    let mut size = 0u64;
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hash.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hash.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_values_and_pieces_agree() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(ContentHash::of(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(ContentHash::of(b"a"), 0xaf63_dc4c_8601_ec8c);
        let mut pieces = ContentHash::new();
        pieces.update(b"hello ");
        pieces.update(b"world");
        assert_eq!(pieces.value(), ContentHash::of(b"hello world"));
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello world")?;
        assert_eq!(hash_file(&path)?, (11, ContentHash::of(b"hello world")));
        std::fs::write(&path, b"hello worle")?;
        assert_ne!(hash_file(&path)?.1, ContentHash::of(b"hello world"));
        Ok(())
    }
}
