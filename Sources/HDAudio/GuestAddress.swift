/// A guest physical address: 64 bits with checked arithmetic only (in the style of
/// rust-vmm's `GuestAddress`). There is no `+`: `adding(_:)` returns nil on overflow.
public struct GuestAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64-bit guest physical address.
    public let rawValue: UInt64

    /// Wraps a raw address.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw address.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The address `bytes` further on, or nil when that overflows 64 bits.
    public func adding(_ bytes: UInt64) -> GuestAddress? {
        let (sum, overflow) = rawValue.addingReportingOverflow(bytes)
        return overflow ? nil : GuestAddress(sum)
    }

    /// The distance from `other` up to `self`, or nil when `other` lies above `self`.
    public func distance(from other: GuestAddress) -> UInt64? {
        rawValue >= other.rawValue ? rawValue - other.rawValue : nil
    }

    /// True when the address is a multiple of `alignment` (a power of two).
    public func isAligned(to alignment: UInt64) -> Bool { rawValue & (alignment - 1) == 0 }

    /// The low 32 bits, as a driver programs an xxxLBASE register.
    public var low32: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
    /// The high 32 bits, as a driver programs an xxxUBASE register.
    public var high32: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    /// Orders addresses numerically.
    public static func < (lhs: GuestAddress, rhs: GuestAddress) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `0x0000000010000000`.
    public var description: String {
        rawValue.hexLiteral
    }
}
