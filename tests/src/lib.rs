//! Helpers for the whole-system tests live in tests/tests/common.
