//! Sequence functions over strings and `(N, channels, L)` one-hot arrays: omix-encode's encoder,
//! reverse complement and dinucleotide shuffle.

use numpy::{PyArray3, PyArray4, PyReadonlyArray3, PyUntypedArrayMethods};
use omix_encode::{Alphabet, Ambiguity, Encoder, dinucleotide_shuffle};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::on_pool;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(one_hot, m)?)?;
    m.add_function(wrap_pyfunction!(reverse_complement_strings, m)?)?;
    m.add_function(wrap_pyfunction!(reverse_complement_one_hot, m)?)?;
    m.add_function(wrap_pyfunction!(shuffle_strings, m)?)?;
    m.add_function(wrap_pyfunction!(shuffle_one_hot, m)?)?;
    Ok(())
}

/// An alphabet by its config name (`dna`, `rna`, `protein`).
pub fn alphabet(name: &str) -> PyResult<Alphabet> {
    match name.to_ascii_lowercase().as_str() {
        "dna" => Ok(Alphabet::Dna),
        "rna" => Ok(Alphabet::Rna),
        "protein" => Ok(Alphabet::Protein),
        _ => Err(PyValueError::new_err(format!("alphabet={name:?}: expected \"dna\", \"rna\" or \"protein\""))),
    }
}

fn ambiguity(name: &str) -> PyResult<Ambiguity> {
    match name.to_ascii_lowercase().as_str() {
        "zero" => Ok(Ambiguity::Zero),
        "uniform" => Ok(Ambiguity::Uniform),
        _ => Err(PyValueError::new_err(format!("ambiguity={name:?}: expected \"zero\" or \"uniform\""))),
    }
}

/// Equal-length sequences one-hot encoded into `[n, channels, length]` (channel-major per
/// sequence); an error names the first sequence and base that cannot be encoded.
pub fn encode_all(encoder: &Encoder, sequences: &[String]) -> PyResult<(Vec<f32>, usize)> {
    let length = sequences.first().map_or(0, String::len);
    if let Some((k, other)) = sequences.iter().enumerate().find(|(_, s)| s.len() != length) {
        return Err(PyValueError::new_err(format!(
            "sequence {k} has {} bases but sequence 0 has {length}; one array holds sequences of one length (crop or pad them first)",
            other.len()
        )));
    }
    let block = encoder.alphabet().size() * length;
    let mut values = vec![0.0f32; sequences.len() * block];
    for (k, (sequence, slot)) in sequences.iter().zip(values.chunks_mut(block.max(1))).enumerate() {
        encoder.encode_into(sequence.as_bytes(), slot).map_err(|error| {
            PyValueError::new_err(format!("sequence {k}: {error} (not {})", alphabet_words(encoder.alphabet())))
        })?;
    }
    Ok((values, length))
}

fn alphabet_words(alphabet: Alphabet) -> String {
    format!("{}: {}, lower case or IUPAC ambiguity codes", alphabet, String::from_utf8_lossy(alphabet.symbols()))
}

/// `[n, channels, length]` as an owned NumPy array.
pub fn to_array3<'py>(py: Python<'py>, values: Vec<f32>, shape: [usize; 3]) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let array = numpy::ndarray::Array3::from_shape_vec(shape, values)
        .map_err(|error| PyValueError::new_err(format!("internal shape error: {error}")))?;
    Ok(PyArray3::from_owned_array(py, array))
}

/// The values of a `(N, C, L)` float32 array in C order: borrowed when the array is
/// C-contiguous, else copied once.
pub fn values<'a>(array: &'a PyReadonlyArray3<'_, f32>) -> std::borrow::Cow<'a, [f32]> {
    // `as_slice` also accepts Fortran order (memory order, not C order), so ask for C order.
    match array.as_slice() {
        Ok(slice) if array.is_c_contiguous() => std::borrow::Cow::Borrowed(slice),
        _ => std::borrow::Cow::Owned(array.as_array().iter().copied().collect()),
    }
}

#[pyfunction]
#[pyo3(signature = (sequences, alphabet="dna", ambiguity="zero"))]
fn one_hot<'py>(
    py: Python<'py>,
    sequences: Vec<String>,
    alphabet: &str,
    ambiguity: &str,
) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let encoder = Encoder::new(self::alphabet(alphabet)?, self::ambiguity(ambiguity)?);
    let (values, length) = py.detach(|| on_pool(|| encode_all(&encoder, &sequences)))?;
    to_array3(py, values, [sequences.len(), encoder.alphabet().size(), length])
}

#[pyfunction]
#[pyo3(signature = (sequences, alphabet="dna"))]
fn reverse_complement_strings(sequences: Vec<String>, alphabet: &str) -> PyResult<Vec<String>> {
    let alphabet = self::alphabet(alphabet)?;
    if alphabet == Alphabet::Protein {
        return Err(PyValueError::new_err("a protein sequence has no reverse complement"));
    }
    Ok(sequences
        .iter()
        .map(|s| String::from_utf8_lossy(&omix_encode::reverse_complement(s.as_bytes(), alphabet)).into_owned())
        .collect())
}

#[pyfunction]
fn reverse_complement_one_hot<'py>(
    py: Python<'py>,
    x: PyReadonlyArray3<'py, f32>,
) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let shape = checked_shape(&x, 4)?;
    let values = values(&x);
    let block = shape[1] * shape[2];
    let flipped: Vec<f32> = py.detach(|| {
        values.chunks(block.max(1)).flat_map(|input| omix_encode::reverse_complement_one_hot(input, shape[2])).collect()
    });
    to_array3(py, flipped, shape)
}

/// The shape of `x`, which must have `channels` channels.
pub fn checked_shape(x: &PyReadonlyArray3<'_, f32>, channels: usize) -> PyResult<[usize; 3]> {
    let shape = x.shape();
    if shape[1] != channels {
        return Err(PyValueError::new_err(format!(
            "X has shape {:?}; expected (N, {channels}, L): one-hot sequences with {channels} channels (omix.one_hot makes them)",
            (shape[0], shape[1], shape[2])
        )));
    }
    Ok([shape[0], shape[1], shape[2]])
}

/// The rng of sequence `index` for `seed`: each sequence's shuffles depend on the seed and its
/// position only, so a subset shuffles as it would in the whole.
fn rng_for(seed: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

#[pyfunction]
#[pyo3(signature = (sequences, n=1, seed=0))]
fn shuffle_strings(py: Python<'_>, sequences: Vec<String>, n: usize, seed: u64) -> Vec<Vec<String>> {
    py.detach(|| {
        sequences
            .iter()
            .enumerate()
            .map(|(index, sequence)| {
                let mut rng = rng_for(seed, index);
                (0..n)
                    .map(|_| String::from_utf8_lossy(&dinucleotide_shuffle(sequence.as_bytes(), &mut rng)).into_owned())
                    .collect()
            })
            .collect()
    })
}

#[pyfunction]
#[pyo3(signature = (x, n=1, seed=0, alphabet="dna"))]
fn shuffle_one_hot<'py>(
    py: Python<'py>,
    x: PyReadonlyArray3<'py, f32>,
    n: usize,
    seed: u64,
    alphabet: &str,
) -> PyResult<Bound<'py, PyArray4<f32>>> {
    let alphabet = self::alphabet(alphabet)?;
    let [count, channels, length] = checked_shape(&x, alphabet.size())?;
    let values = values(&x);
    let encoder = Encoder::new(alphabet, Ambiguity::Zero);
    let block = channels * length;
    let shuffled = py.detach(|| -> PyResult<Vec<f32>> {
        let mut out = vec![0.0f32; count * n * block];
        for (index, (input, slot)) in values.chunks(block.max(1)).zip(out.chunks_mut((n * block).max(1))).enumerate() {
            let sequence = encoder.decode(input, length);
            let mut rng = rng_for(seed, index);
            for copy in slot.chunks_mut(block.max(1)) {
                let shuffled = dinucleotide_shuffle(&sequence, &mut rng);
                encoder.encode_into(&shuffled, copy).map_err(|error| PyValueError::new_err(error.to_string()))?;
            }
        }
        Ok(out)
    })?;
    let array = numpy::ndarray::Array4::from_shape_vec([count, n, channels, length], shuffled)
        .map_err(|error| PyValueError::new_err(format!("internal shape error: {error}")))?;
    Ok(PyArray4::from_owned_array(py, array))
}
