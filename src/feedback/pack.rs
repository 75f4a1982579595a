//! An Assistant Director's pack: their partnerships only.
