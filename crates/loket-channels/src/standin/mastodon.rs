//! Stand-in for mastodon (being built; see issue 4).
