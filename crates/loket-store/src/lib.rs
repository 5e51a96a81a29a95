//! loket-store
