//! loket-channels
