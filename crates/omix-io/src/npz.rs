//! NumPy `.npz` archives of `float32` arrays, the interchange format of the field's Python
//! tools (TF-MoDISco's `modisco motifs -s ohe.npz -a shap.npz`, tangermeme, bpnet-lite).
//!
//! Each array is an `.npy` file (format version 1.0: the magic string, a little-endian header
//! length, a Python-literal header padded so the data starts on a 64-byte boundary, then the
//! values in C order) inside a deflate-compressed zip, as `numpy.savez_compressed` writes
//! them. The archive is assembled in memory and written atomically.
//!
//! [`read_npy`] reads one numeric array back, from an `.npy` file or the first array (or a
//! named one) of an `.npz` archive, stored or deflated, as `numpy.load` does for TF-MoDISco's
//! inputs: little-endian floats, integers and booleans in C order, converted to `f32`.

use std::io::{self, Cursor, Read, Write};
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

/// A numeric array read from an `.npy` file or an `.npz` archive, as `f32` values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyData {
    /// The array's name inside the archive (`arr_0`), or the file name of an `.npy` file.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub values: Vec<f32>,
}

/// Read the array `name` (default: the first one, as TF-MoDISco reads `arr_0`) of the `.npz`
/// archive at `path`, or the array of an `.npy` file (told apart by their first bytes).
/// Big-endian, Fortran-ordered, object and complex arrays are refused, naming the array and
/// its type.
pub fn read_npy(path: &Path, name: Option<&str>) -> Result<NpyData, IoError> {
    let npy_error = |message: String| IoError::Npy { path: path.to_path_buf(), message };
    let bytes = std::fs::read(path).map_err(|source| IoError::Open { path: path.to_path_buf(), source })?;
    if bytes.is_empty() {
        return Err(IoError::Empty { path: path.to_path_buf() });
    }
    if bytes.starts_with(b"\x93NUMPY") {
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return parse_npy(&bytes, &file_name).map_err(npy_error);
    }
    if !bytes.starts_with(b"PK") {
        return Err(npy_error("not a NumPy file: expected an .npz (zip) archive or an .npy array".into()));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes[..]))
        .map_err(|e| npy_error(format!("not a readable .npz archive: {e}")))?;
    let names: Vec<String> = archive.file_names().filter_map(|name| name.ok().map(|name| name.to_string())).collect();
    let wanted = match name {
        Some(name) => format!("{}.npy", name.trim_end_matches(".npy")),
        None => {
            let mut arrays: Vec<&String> = names.iter().filter(|n| n.ends_with(".npy")).collect();
            arrays.sort();
            match arrays.iter().find(|n| n.as_str() == "arr_0.npy").or_else(|| arrays.first()) {
                Some(first) => (*first).clone(),
                None => return Err(npy_error("the archive holds no .npy array".into())),
            }
        }
    };
    let array_name = wanted.trim_end_matches(".npy").to_string();
    let mut entry = archive
        .by_name(&wanted)
        .map_err(|_| npy_error(format!("the archive has no array `{array_name}` (it holds: {})", names.join(", "))))?;
    // No capacity from the archive's own size field: a damaged one could ask for any amount.
    let mut content = Vec::new();
    entry.read_to_end(&mut content).map_err(|e| npy_error(format!("array `{array_name}`: cannot decompress: {e}")))?;
    parse_npy(&content, &array_name).map_err(npy_error)
}

/// Parse the bytes of one `.npy` array (format versions 1 to 3).
fn parse_npy(bytes: &[u8], name: &str) -> Result<NpyData, String> {
    let fail = |what: String| format!("array `{name}`: {what}");
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err(fail("not an .npy array (no NUMPY magic)".into()));
    }
    let (header_start, header_length) = match bytes[6] {
        1 => (10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))),
        2 | 3 if bytes.len() >= 12 => (12, u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize),
        version => return Err(fail(format!("unsupported .npy format version {version}"))),
    };
    let data_start = header_start + header_length;
    let header = bytes
        .get(header_start..data_start)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| fail("the header is truncated or not text".into()))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr")
        .and_then(|rest| rest.strip_prefix('\'')?.split('\'').next())
        .ok_or_else(|| fail(format!("the header has no dtype ('descr'): {}", header.trim())))?;
    if field("fortran_order").is_some_and(|rest| rest.starts_with("True")) {
        return Err(fail("Fortran-ordered arrays are not supported; save it with numpy.ascontiguousarray".into()));
    }
    let shape_text = field("shape")
        .and_then(|rest| rest.strip_prefix('(')?.split(')').next())
        .ok_or_else(|| fail(format!("the header has no shape: {}", header.trim())))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|dim| !dim.is_empty())
        .map(|dim| dim.trim_end_matches('L').parse::<usize>())
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| fail(format!("cannot read the shape ({shape_text})")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| fail("the shape overflows".into()))?;
    let data = &bytes[data_start.min(bytes.len())..];
    let (size, convert): (usize, fn(&[u8]) -> f32) = match descr {
        "<f4" | "=f4" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "<f8" | "=f8" => (8, |b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32),
        "|b1" | "|u1" => (1, |b| f32::from(b[0])),
        "|i1" => (1, |b| f32::from(b[0] as i8)),
        "<i2" | "=i2" => (2, |b| f32::from(i16::from_le_bytes([b[0], b[1]]))),
        "<i4" | "=i4" => (4, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32),
        "<i8" | "=i8" => (8, |b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32),
        other => {
            return Err(fail(format!(
                "dtype {other} is not supported (expected little-endian float32/float64, integers or booleans)"
            )));
        }
    };
    let needed = count.checked_mul(size).ok_or_else(|| fail("the shape overflows".into()))?;
    if data.len() != needed {
        return Err(fail(format!(
            "shape {shape:?} of {descr} needs {needed} bytes of data but the array holds {}",
            data.len()
        )));
    }
    let values = data.chunks_exact(size).map(convert).collect();
    Ok(NpyData { name: name.to_string(), shape, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write_npz` writes, `read_npy` reads back; `.npy` files and other dtypes too; broken
    /// files are refused naming the file and the array.
    #[test]
    fn npz_round_trip_and_refusals() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.npz");
        write_npz(
            &path,
            &[
                NpyArray { name: "arr_0", shape: &[2, 3], values: &[1.0, 2.0, 3.0, 4.0, 5.0, -6.5] },
                NpyArray { name: "other", shape: &[1], values: &[9.0] },
            ],
        )?;
        let first = read_npy(&path, None)?;
        assert_eq!((first.name.as_str(), first.shape.as_slice()), ("arr_0", &[2usize, 3][..]));
        assert_eq!(first.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]);
        assert_eq!(read_npy(&path, Some("other"))?.values, vec![9.0]);
        let missing = read_npy(&path, Some("nope")).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            missing.as_ref().is_err_and(|e| e.contains("no array `nope`") && e.contains("arr_0.npy")),
            "{missing:?}"
        );

        // An .npy file of float64 and one of booleans (the header numpy writes, version 1.0).
        let npy = |descr: &str, shape: &str, data: &[u8]| {
            let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
            header.push_str(&" ".repeat((64 - (10 + header.len() + 1) % 64) % 64));
            header.push('\n');
            let mut out = b"\x93NUMPY\x01\x00".to_vec();
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(data);
            out
        };
        let f64_path = dir.path().join("a.npy");
        let data: Vec<u8> = [0.25f64, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&f64_path, npy("<f8", "(2,)", &data))?;
        assert_eq!(read_npy(&f64_path, None)?.values, vec![0.25, -2.0]);
        std::fs::write(&f64_path, npy("|b1", "(1, 3)", &[1, 0, 1]))?;
        assert_eq!(
            read_npy(&f64_path, None)?,
            NpyData { name: "a.npy".into(), shape: vec![1, 3], values: vec![1.0, 0.0, 1.0] }
        );

        let refused = |bytes: Vec<u8>, needle: &str| -> Result<(), Box<dyn std::error::Error>> {
            let bad = dir.path().join("bad.npy");
            std::fs::write(&bad, bytes)?;
            let message = read_npy(&bad, None).map(|_| ()).map_err(|e| e.to_string());
            assert!(
                message.as_ref().is_err_and(|m| m.contains(needle) && m.contains("bad.npy")),
                "{needle}: {message:?}"
            );
            Ok(())
        };
        refused(npy("<f4", "(3,)", &[0; 8]), "needs 12 bytes of data but the array holds 8")?;
        refused(npy(">f4", "(1,)", &[0; 4]), "dtype >f4 is not supported")?;
        let mut fortran = npy("<f4", "(1,)", &[0; 4]);
        let at = fortran.windows(5).position(|w| w == b"False").ok_or("no False in the header")?;
        fortran[at..at + 5].copy_from_slice(b"True ");
        refused(fortran, "Fortran-ordered arrays are not supported")?;
        refused(b"hello".to_vec(), "not a NumPy file")?;
        refused(b"PK\x03\x04garbage".to_vec(), "not a readable .npz archive")?;
        refused(Vec::new(), "empty")?;
        Ok(())
    }

    /// Damaged archives and arrays (seeded byte flips, truncations) are errors, never panics.
    #[test]
    fn damaged_files_are_errors_not_panics() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let good = dir.path().join("good.npz");
        let values: Vec<f32> = (0..96).map(|v| v as f32).collect();
        write_npz(&good, &[NpyArray { name: "arr_0", shape: &[2, 4, 12], values: &values }])?;
        let npz = std::fs::read(&good)?;
        let npy = npy_bytes(&[2, 4, 12], &values);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let bad = dir.path().join("bad.npz");
        for case in 0..400 {
            let mut bytes = if case % 2 == 0 { npz.clone() } else { npy.clone() };
            match next() % 3 {
                0 => bytes.truncate((next() as usize) % bytes.len()),
                _ => {
                    for _ in 0..1 + next() % 4 {
                        let at = (next() as usize) % bytes.len();
                        bytes[at] = next() as u8;
                    }
                }
            }
            std::fs::write(&bad, &bytes)?;
            if let Ok(array) = read_npy(&bad, None) {
                assert_eq!(array.shape.iter().product::<usize>(), array.values.len());
            }
        }
        Ok(())
    }

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
