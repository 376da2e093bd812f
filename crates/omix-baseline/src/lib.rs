//! Simple models beside the deep ones.

mod bootstrap;
mod knn;
mod logistic;
mod pca;
