//! loket-server
