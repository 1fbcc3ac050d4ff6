//! promkit-derive's one integration test binary: behaviour of the derives, and their
//! compile errors.

mod derive;
mod ui;
