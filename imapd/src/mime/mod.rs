//! MIME structure for FETCH: ENVELOPE, BODYSTRUCTURE, BODY[section] and BINARY.
