//! Prediction input read record by record, so that `omix predict` on a genome-sized FASTA file
//! holds one batch in memory rather than the whole file.

use omix_io::{IoError, SequenceRecord, for_each_fasta_record, for_each_sequence_line};

use crate::config::Format;
use crate::dataset::{MODEL_LENGTH_HINT, make_example};
use crate::load::{RawLabel, RawRecord, resolve_format};
use crate::{DataError, DataReport, Dataset, Example, InputKind, Schema, SourceConfig, Split};

/// An error of reading (the library's) or of handling a batch (the caller's).
enum StreamError<E> {
    Data(DataError),
    Each(E),
}

impl<E> From<IoError> for StreamError<E> {
    fn from(error: IoError) -> Self {
        StreamError::Data(error.into())
    }
}

impl<E> From<DataError> for StreamError<E> {
    fn from(error: DataError) -> Self {
        StreamError::Data(error)
    }
}

impl Dataset {
    /// Whether [`Dataset::stream_for_model`] can read `source`: one sequence file (one sequence
    /// per line, or FASTA) without labels. Tables and matrices are read whole.
    pub fn streams(source: &SourceConfig) -> Result<bool, DataError> {
        let Some(input) = source.input.as_ref() else { return Ok(false) };
        if source.labels.is_some() || !source.classes.is_empty() {
            return Ok(false);
        }
        Ok(matches!(resolve_format(source.format, input)?, Format::Lines | Format::Fasta))
    }

    /// Read unlabelled prediction input record by record (see [`Dataset::streams`]) and hand it
    /// to `each` in data sets of at most `batch` examples, all in the test split, with the same
    /// checks as [`Dataset::load_for_model`]. Only one batch (and, for FASTA, the record ids seen,
    /// to refuse repeats) is held in memory. Returns the number of records read; an error from
    /// `each` (a closed pipe, say) stops the reading and is returned.
    pub fn stream_for_model<E: From<DataError>>(
        source: &SourceConfig,
        schema: &Schema,
        batch: usize,
        mut each: impl FnMut(Dataset) -> Result<(), E>,
    ) -> Result<usize, E> {
        let input = match source.input.as_ref() {
            Some(input) if Self::streams(source)? => input.clone(),
            _ => {
                return Err(DataError::Config {
                    field: "input",
                    message: "only one unlabelled sequence file (lines or FASTA) can be streamed".into(),
                }
                .into());
            }
        };
        if let InputKind::Matrix { .. } = schema.input {
            return Err(DataError::Config {
                field: "format",
                message: "the model was trained on matrix rows; give a matrix (format = \"matrix\")".into(),
            }
            .into());
        }
        let files = vec![input.clone()];
        let batch = batch.max(1);
        let mut pending: Vec<Example> = Vec::with_capacity(batch);
        let mut report = DataReport::default();
        let mut read = 0usize;
        let mut hand_on = |examples: Vec<Example>, report: &DataReport| -> Result<(), StreamError<E>> {
            let dataset = Dataset { schema: schema.clone(), examples, files: files.clone(), report: report.clone() };
            each(dataset).map_err(StreamError::Each)
        };
        let mut take = |record: SequenceRecord| -> Result<(), StreamError<E>> {
            read += 1;
            report.records_read = read;
            let raw = RawRecord {
                id: record.id,
                sequence: record.sequence,
                values: Vec::new(),
                location: record.location,
                file: 0,
                label: RawLabel::None,
                split: None,
            };
            let reason = ("the trained model's input length", MODEL_LENGTH_HINT);
            let mut example = make_example(raw, schema, &files, reason, &mut report, false)?;
            example.split = Split::Test;
            pending.push(example);
            if pending.len() == batch {
                hand_on(std::mem::replace(&mut pending, Vec::with_capacity(batch)), &report)?;
            }
            Ok(())
        };
        let streamed = match resolve_format(source.format, &input) {
            Ok(Format::Fasta) => for_each_fasta_record(&input, true, &mut take),
            Ok(_) => for_each_sequence_line(&input, &mut take),
            Err(error) => Err(StreamError::Data(error)),
        };
        let finished = streamed
            .and_then(|()| if pending.is_empty() { Ok(()) } else { hand_on(std::mem::take(&mut pending), &report) });
        match finished {
            Ok(()) => Ok(read),
            Err(StreamError::Data(error)) => Err(error.into()),
            Err(StreamError::Each(error)) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn schema(length: usize) -> Schema {
        Schema {
            task: crate::Task::Binary,
            input: InputKind::Sequence,
            class_names: vec!["0".into(), "1".into()],
            alphabet: omix_encode::Alphabet::Dna,
            ambiguity: omix_encode::Ambiguity::default(),
            length,
            length_policy: omix_encode::LengthPolicy::Refuse,
        }
    }

    #[test]
    fn batches_match_the_whole_file_read_at_once() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("in.fa");
        let mut text = String::new();
        for index in 0..23 {
            text.push_str(&format!(">r{index}\nACGTACGTAC\nGTACGTACGT\n"));
        }
        std::fs::write(&path, text)?;
        let source = SourceConfig { input: Some(path), ..SourceConfig::default() };
        assert!(Dataset::streams(&source)?);
        let whole = Dataset::load_for_model(&source, &schema(20), false)?;
        let mut streamed = Vec::new();
        let mut sizes = Vec::new();
        let read = Dataset::stream_for_model(&source, &schema(20), 10, |batch: Dataset| {
            sizes.push(batch.examples.len());
            streamed.extend(batch.examples);
            Ok::<_, DataError>(())
        })?;
        assert_eq!((read, sizes), (23, vec![10, 10, 3]));
        let ids =
            |examples: &[Example]| examples.iter().map(|e| (e.id.clone(), e.sequence.clone())).collect::<Vec<_>>();
        assert_eq!(ids(&streamed), ids(&whole.examples));
        Ok(())
    }

    #[test]
    fn errors_stop_the_stream_and_name_the_record() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("in.txt");
        std::fs::write(&path, "ACGTACGT\nACGTACGT\nACGTACGTAA\nACGTACGT\n")?;
        let source = SourceConfig { input: Some(path), ..SourceConfig::default() };
        let mut seen = 0;
        let error = Dataset::stream_for_model(&source, &schema(8), 1, |batch: Dataset| {
            seen += batch.examples.len();
            Ok::<_, DataError>(())
        })
        .err()
        .ok_or("a record of the wrong length was accepted")?;
        assert!(error.to_string().contains("in.txt:3"), "{error}");
        assert_eq!(seen, 2);
        // The caller's error stops the reading too.
        let mut calls = 0;
        let stopped = Dataset::stream_for_model(&source, &schema(8), 1, |_: Dataset| {
            calls += 1;
            Err(DataError::Config { field: "x", message: "closed".into() })
        });
        assert!(stopped.is_err());
        assert_eq!(calls, 1);
        Ok(())
    }
}
