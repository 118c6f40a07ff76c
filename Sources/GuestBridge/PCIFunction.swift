import Glibc
import HDAController

/// The PCI function Azalia's controller sits behind: a type 0 configuration header with the
/// profile's vendor and device id, class 0x0403 (multimedia, HD Audio), one 16 KiB 32-bit
/// non-prefetchable memory BAR (BAR0) and INTA#.
///
/// The device process owns the whole configuration space (QEMU's proxy forwards every
/// access, BAR sizing included). Writable: COMMAND, the BAR's address bits, cache line
/// size, latency timer, interrupt line, and the device-specific bytes 0x40 to 0xFF
/// (Intel's TCSEL at 0x44, which Linux clears, and the like are kept and read back).
/// STATUS has no capability list: no MSI, no power management.
public struct PCIConfigSpace {
    /// The 256 bytes of the header and device-specific area.
    public private(set) var bytes: [UInt8] = Array(repeating: 0, count: 256)
    /// The size of BAR0.
    public static let barSize: UInt32 = 0x4000
    private var writable: [UInt8] = Array(repeating: 0, count: 256)

    /// A header for a controller of `vendor`:`device`, revision `revision`.
    public init(vendor: UInt16, device: UInt16, revision: UInt8) {
        store(0x00, UInt32(vendor), 2)
        store(0x02, UInt32(device), 2)
        store(0x08, UInt32(revision), 1)
        store(0x09, 0x04_03_00, 3)           // programming interface 0, subclass 0x03 (HD Audio), class 0x04 (multimedia)
        store(0x0E, 0x00, 1)                 // header type 0, single function
        store(0x2C, UInt32(vendor), 2)       // subsystem vendor and id: the same as the function's
        store(0x2E, UInt32(device), 2)
        store(0x3D, 0x01, 1)                 // INTA#
        for (offset, mask) in [(0x04, 0x07), (0x05, 0x04), (0x0C, 0xFF), (0x0D, 0xFF), (0x3C, 0xFF)] {
            writable[offset] = UInt8(mask)   // COMMAND: I/O, memory, bus master; INTx disable; CLS; latency; line
        }
        let bar = ~(Self.barSize - 1)        // address bits 31:14; bits 3:0 = 0 (32-bit memory, not prefetchable)
        for i in 0..<4 { writable[0x10 + i] = UInt8(truncatingIfNeeded: bar >> (8 * UInt32(i))) }
        for i in 0x40..<0x100 { writable[i] = 0xFF }
    }

    /// Reads `length` (1, 2 or 4) bytes at `address`; out of range reads all ones.
    public func read(_ address: UInt32, length: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<max(0, min(length, 4)) {
            let a = Int(address) + i
            value |= UInt32(a < bytes.count ? bytes[a] : 0xFF) << (8 * UInt32(i))
        }
        return value
    }

    /// Writes `length` bytes at `address`, through the writable mask.
    public mutating func write(_ address: UInt32, _ value: UInt32, length: Int) {
        for i in 0..<max(0, min(length, 4)) {
            let a = Int(address) + i
            guard a < bytes.count else { continue }
            let v = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            bytes[a] = bytes[a] & ~writable[a] | v & writable[a]
        }
    }

    /// The guest physical address BAR0 was programmed with.
    public var bar0: UInt64 { UInt64(read(0x10, length: 4) & ~(Self.barSize - 1)) }
    /// COMMAND.MSE: memory decoding is on.
    public var memoryEnabled: Bool { bytes[0x04] & 0x2 != 0 }

    private mutating func store(_ offset: Int, _ value: UInt32, _ length: Int) {
        for i in 0..<length { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}
