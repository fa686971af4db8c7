"""Personal data as Decree 13/2023 asks: sealed at rest under keys with ids (`keys`), found by exact
value through keyed hashes (`keys.KeyRing.index`), never written in a failure's trail (`redaction`),
kept only as long as each data class needs (`retention`), moved to the newest key in the background
(`rotation`)."""
