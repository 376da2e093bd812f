//! Engineered features for omix's dense networks and baselines.

mod kmer;
mod meme;
mod pwm;
mod standardize;
