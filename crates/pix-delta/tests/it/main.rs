//! Integration tests of pix-delta against real tables in temp dirs (one test binary: link time).

mod exactly_once;
mod fixtures;
mod layout;
mod python_reader;
