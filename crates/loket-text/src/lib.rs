//! loket-text
