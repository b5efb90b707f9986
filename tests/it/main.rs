//! The one integration-test binary: every area adds its file as a module here.

mod experiment;
