@_exported public import struct HDAudio.SeededRandom
/// `count` random bytes from a seeded generator.
public func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var g = SeededRandom(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: g.next()) }
}
