//! loket-core
