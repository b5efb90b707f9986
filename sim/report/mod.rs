//! Everything written to a results folder: CSV tables, the manifest, charts and the
//! leadership report. This layer does file I/O; everything below it is pure.
