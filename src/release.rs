//! Which Nova release made a database's schema: sqlalchemy-migrate versions and alembic revisions mapped to releases.
//!
//! Checks that depend on where a release keeps (or reads) data ask this module instead of probing version
//! numbers themselves. The numbers come from openstack/nova's tree:
//! - sqlalchemy-migrate (up to Wallaby): the highest file in `nova/db/sqlalchemy/migrate_repo/versions/` (main
//!   DB, repository `nova`) and `nova/db/sqlalchemy/api_migrations/migrate_repo/versions/` (API DB, repository
//!   `nova_api`) at each release's *end-of-life* tag (`mitaka-eol` ... `wallaby-eom`), not at its `.0.0` tag:
//!   stable branches used the placeholder numbers reserved for backports (Newton's API DB ends at 022, not 020;
//!   Ocata's at 031, not 030), and a database synced by the last stable release carries those.
//! - alembic (Xena on): the revision files under `nova/db/main/migrations/versions/` and
//!   `nova/db/api/migrations/versions/`, in the release whose `.0.0` tag first ships them. Several releases can
//!   share a head revision (no schema change in between), so an alembic revision names a range of releases.
//!
//! The two migrate repositories never overlap: main-DB versions start at 216 (the Havana baseline), API-DB
//! versions end at 082; the version alone says which database it is.

use serde::Serialize;
use std::fmt;

/// A Nova release, by its major version (13 = Mitaka ... 34 = 2026.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Release(pub u8);

impl Release {
    pub const LIBERTY: Release = Release(12);
    pub const MITAKA: Release = Release(13);
    pub const NEWTON: Release = Release(14);
    pub const OCATA: Release = Release(15);
    pub const PIKE: Release = Release(16);
    pub const QUEENS: Release = Release(17);
    pub const ROCKY: Release = Release(18);
    pub const STEIN: Release = Release(19);
    pub const TRAIN: Release = Release(20);
    pub const XENA: Release = Release(24);
    /// 2023.2 Bobcat: `AvailabilityZoneFilter` removed; AZs are scheduled only through placement.
    pub const BOBCAT: Release = Release(28);

    /// The series name operators use ("Stein", "2024.1 Caracal").
    pub fn name(self) -> &'static str {
        match self.0 {
            0..=11 => "pre-Liberty",
            12 => "Liberty",
            13 => "Mitaka",
            14 => "Newton",
            15 => "Ocata",
            16 => "Pike",
            17 => "Queens",
            18 => "Rocky",
            19 => "Stein",
            20 => "Train",
            21 => "Ussuri",
            22 => "Victoria",
            23 => "Wallaby",
            24 => "Xena",
            25 => "Yoga",
            26 => "Zed",
            27 => "2023.1 Antelope",
            28 => "2023.2 Bobcat",
            29 => "2024.1 Caracal",
            30 => "2024.2 Dalmatian",
            31 => "2025.1 Epoxy",
            32 => "2025.2 Flamingo",
            33 => "2026.1 Gazpacho",
            34 => "2026.2",
            _ => "newer than 2026.2",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// Which of a deployment's Nova databases a schema version belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repo {
    /// A cell's (or a cells v1 cell's) main database, `nova`.
    Main,
    /// The API database, `nova_api`.
    Api,
}

/// The releases whose `db sync` leaves a database at the schema version found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaRelease {
    pub repo: Repo,
    pub oldest: Release,
    pub newest: Release,
}

impl SchemaRelease {
    fn one(repo: Repo, r: Release) -> Self {
        SchemaRelease {
            repo,
            oldest: r,
            newest: r,
        }
    }

    /// Whether the database may be run by `r` (a release within the range).
    pub fn includes(&self, r: Release) -> bool {
        self.oldest <= r && r <= self.newest
    }
}

impl fmt::Display for SchemaRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.oldest == self.newest {
            write!(f, "{}", self.oldest)
        } else {
            write!(
                f,
                "{} to {} ({}-{})",
                self.oldest.name(),
                self.newest.name(),
                self.oldest.0,
                self.newest.0
            )
        }
    }
}

/// Highest main-DB migrate version of each release, at its end-of-life tag.
const MAIN_MIGRATE: &[(i64, Release)] = &[
    (302, Release(12)),
    (319, Release(13)),
    (334, Release(14)),
    (347, Release(15)),
    (362, Release(16)),
    (378, Release(17)),
    (390, Release(18)),
    (391, Release(19)),
    (402, Release(20)),
    (407, Release(21)),
    (412, Release(22)),
    (417, Release(23)),
];

/// Highest API-DB migrate version of each release, at its end-of-life tag.
const API_MIGRATE: &[(i64, Release)] = &[
    (3, Release(12)),
    (7, Release(13)),
    (22, Release(14)),
    (31, Release(15)),
    (45, Release(16)),
    (52, Release(17)),
    (61, Release(18)),
    (62, Release(19)),
    (67, Release(20)),
    (72, Release(21)),
    (77, Release(22)),
    (82, Release(23)),
];

/// Every alembic revision: its database, the release that first ships it, and the last release for which it is
/// still the head (the same release when a later revision follows within that release).
const ALEMBIC: &[(&str, Repo, u8, u8)] = &[
    ("8f2f1571d55b", Repo::Main, 24, 24),
    ("16f1fbcab42b", Repo::Main, 25, 25),
    ("ccb0fa1a2252", Repo::Main, 26, 26),
    ("960aac0e09ea", Repo::Main, 27, 27),
    ("1b91788ec3a6", Repo::Main, 28, 28),
    ("1acf2c98e646", Repo::Main, 28, 28),
    ("13863f4e1612", Repo::Main, 29, 30),
    ("d60bddf7a903", Repo::Main, 31, 31),
    ("2903cd72dc14", Repo::Main, 31, 33),
    ("ab450ba04102", Repo::Main, 34, 34),
    ("d67eeaabee36", Repo::Api, 24, 24),
    ("b30f573d3377", Repo::Api, 25, 27),
    ("cdeec0c85668", Repo::Api, 28, 34),
];

/// The releases behind a sqlalchemy-migrate version; `None` past Wallaby's last version (not a Nova we know).
pub fn from_migrate(version: i64) -> Option<SchemaRelease> {
    let (repo, table) = if version >= 216 {
        (Repo::Main, MAIN_MIGRATE)
    } else {
        (Repo::Api, API_MIGRATE)
    };
    if version < 0 {
        return None;
    }
    if let Some(&(_, r)) = table.iter().find(|(max, _)| version <= *max) {
        return Some(SchemaRelease::one(repo, r));
    }
    None
}

/// The releases behind an alembic revision, or `None` for a revision Nova never shipped (or a newer one).
pub fn from_alembic(revision: &str) -> Option<SchemaRelease> {
    ALEMBIC
        .iter()
        .find(|(rev, ..)| *rev == revision)
        .map(|&(_, repo, oldest, newest)| SchemaRelease {
            repo,
            oldest: Release(oldest),
            newest: Release(newest),
        })
}

/// Reads the schema version string the database layer records (`alembic REV` or `migrate N`).
pub fn of_schema_version(v: &str) -> Option<SchemaRelease> {
    if let Some(rev) = v.strip_prefix("alembic ") {
        return from_alembic(rev.trim());
    }
    if let Some(n) = v.strip_prefix("migrate ") {
        return n.trim().parse().ok().and_then(from_migrate);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrate_versions_map_by_end_of_life_tags() {
        let main = |v| from_migrate(v).map(|s| (s.repo, s.oldest.0));
        assert_eq!(main(319), Some((Repo::Main, 13)));
        assert_eq!(main(320), Some((Repo::Main, 14)));
        assert_eq!(main(347), Some((Repo::Main, 15)));
        assert_eq!(main(391), Some((Repo::Main, 19)));
        assert_eq!(main(417), Some((Repo::Main, 23)));
        assert_eq!(main(418), None);
        // Newton's stable branch went to API 022, Ocata's to 031 (placeholders reserved for backports).
        assert_eq!(main(22), Some((Repo::Api, 14)));
        assert_eq!(main(31), Some((Repo::Api, 15)));
        assert_eq!(main(62), Some((Repo::Api, 19)));
        assert_eq!(main(-1), None);
    }

    #[test]
    fn alembic_heads_name_ranges() {
        let s = of_schema_version("alembic 13863f4e1612").unwrap();
        assert_eq!((s.oldest.0, s.newest.0), (29, 30));
        assert_eq!(s.to_string(), "2024.1 Caracal to 2024.2 Dalmatian (29-30)");
        assert_eq!(
            of_schema_version("migrate 391").unwrap().to_string(),
            "Stein (19)"
        );
        assert!(of_schema_version("alembic deadbeef").is_none());
        assert!(of_schema_version("migrate x").is_none());
    }
}
