//! NumPy `.npz` archives of `float32` arrays, the interchange format of the field's Python
//! tools (TF-MoDISco's `modisco motifs -s ohe.npz -a shap.npz`, tangermeme, bpnet-lite).
//!
//! Each array is an `.npy` file (format version 1.0: the magic string, a little-endian header
//! length, a Python-literal header padded so the data starts on a 64-byte boundary, then the
//! values in C order) inside a deflate-compressed zip, as `numpy.savez_compressed` writes
//! them. The archive is assembled in memory and written atomically.

use std::io::{self, Cursor, Write};
use std::path::Path;

use crate::{IoError, write_atomically};

/// One array of an archive: its name in the archive (`arr_0` is what `numpy.load(...)["arr_0"]`
/// and TF-MoDISco read), its shape, and its values in C order.
#[derive(Debug, Clone, Copy)]
pub struct NpyArray<'a> {
    /// Name without the `.npy` suffix.
    pub name: &'a str,
    /// Dimensions; their product must equal the number of values.
    pub shape: &'a [usize],
    /// Values in C (row-major) order.
    pub values: &'a [f32],
}

/// The `.npy` bytes of one array.
pub fn npy_bytes(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let dims = match shape {
        [single] => format!("({single},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + header length (2) + header, a multiple of 64 with the newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * values.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for value in values {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// Write `arrays` as a compressed `.npz` archive at `path`, atomically.
pub fn write_npz(path: &Path, arrays: &[NpyArray<'_>]) -> Result<(), IoError> {
    let error = |source| IoError::Write { path: path.to_path_buf(), source };
    for array in arrays {
        let expected: usize = array.shape.iter().product();
        if expected != array.values.len() {
            return Err(error(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "array {} has shape {:?} ({expected} values) but {} values",
                    array.name,
                    array.shape,
                    array.values.len()
                ),
            )));
        }
    }
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for array in arrays {
        zip.start_file(format!("{}.npy", array.name), options).map_err(|e| error(io::Error::other(e)))?;
        zip.write_all(&npy_bytes(array.shape, array.values)).map_err(error)?;
    }
    let bytes = zip.finish().map_err(|e| error(io::Error::other(e)))?.into_inner();
    write_atomically(path, |w| w.write_all(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header is numpy's: 64-byte aligned data, the shape as a Python tuple.
    #[test]
    fn npy_header_is_aligned_and_names_the_shape() {
        let bytes = npy_bytes(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_length = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_length) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_length]).unwrap_or_default();
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), "{header}");
        assert!(header.ends_with('\n'));
        assert_eq!(&bytes[10 + header_length..10 + header_length + 4], &1.0f32.to_le_bytes());
        assert_eq!(bytes.len(), 10 + header_length + 24);
        let one = npy_bytes(&[3], &[0.0; 3]);
        let length = u16::from_le_bytes([one[8], one[9]]) as usize;
        assert!(std::str::from_utf8(&one[10..10 + length]).unwrap_or_default().contains("'shape': (3,)"));
    }

    #[test]
    fn npz_holds_each_array_and_refuses_a_wrong_shape() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.npz");
        write_npz(&path, &[NpyArray { name: "arr_0", shape: &[1, 2], values: &[0.5, -1.0] }])?;
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path)?)?;
        let mut entry = archive.by_name("arr_0.npy")?;
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut entry, &mut bytes)?;
        assert_eq!(bytes, npy_bytes(&[1, 2], &[0.5, -1.0]));
        let wrong = write_npz(&dir.path().join("y.npz"), &[NpyArray { name: "a", shape: &[3], values: &[1.0] }]);
        assert!(wrong.is_err_and(|e| e.to_string().contains("shape [3] (3 values) but 1 values")));
        assert!(!dir.path().join("y.npz").exists());
        Ok(())
    }
}
