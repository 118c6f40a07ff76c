import HDAudio

/// A DMA engine handle (the hdaudio.h HANDLE of Allocate{Render,Capture}DmaEngine).
///
/// Opaque, and representable as a pointer-sized integer so that a C layer can pass it
/// as a HANDLE. It packs the owning client's id (bits 63:32), an allocation generation
/// (bits 31:8) and the engine's descriptor index (bits 7:0); the bus validates all three
/// against its engine table, so a freed, never-issued or foreign handle is
/// STATUS_INVALID_HANDLE and never reaches another client's engine. Generations count per
/// descriptor and never wrap: a descriptor that has issued `maxGeneration` handles is
/// retired, so a handle once freed stays invalid for the life of the bus.
public struct DmaEngineHandle: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The pointer-sized value.
    public let rawValue: UInt
    /// Wraps a pointer-sized value (any value; the bus validates it on use).
    public init(rawValue: UInt) { self.rawValue = rawValue }

    /// The last generation a descriptor can issue (24 bits).
    static let maxGeneration: UInt32 = 0xFF_FFFF

    init(client: UInt32, generation: UInt32, slot: Int) {
        rawValue = UInt(client) << 32 | UInt(generation & 0xFF_FFFF) << 8 | UInt(slot & 0xFF)
    }

    var client: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }
    var generation: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 8) & 0xFF_FFFF }
    var slot: Int { Int(rawValue & 0xFF) }

    /// `0x0000000100000305`.
    public var description: String {
        UInt64(rawValue).hexLiteral
    }
}
