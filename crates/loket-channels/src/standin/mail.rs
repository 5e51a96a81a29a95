//! Stand-in for mail (being built; see issue 4).
