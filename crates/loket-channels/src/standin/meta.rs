//! Stand-in for meta (being built; see issue 4).
