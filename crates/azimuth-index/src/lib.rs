//! Azimuth vector index kernels.
