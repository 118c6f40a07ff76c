import HDAudio

/// Interrupt request levels the bus driver distinguishes, as in the Windows kernel.
///
/// The DDI's IRQL rule (reference section 4): a routine documented for PASSIVE_LEVEL
/// returns STATUS_UNSUCCESSFUL when called above it, and a routine documented for
/// "up to DISPATCH_LEVEL" returns STATUS_UNSUCCESSFUL at DIRQL.
public enum IRQL: Int, Comparable, Sendable, CustomStringConvertible {
    /// PASSIVE_LEVEL: ordinary thread context.
    case passive = 0
    /// DISPATCH_LEVEL: deferred procedure calls (notification events, callbacks).
    case dispatch = 2
    /// DIRQL: the device's interrupt service routine.
    case dirql = 5

    /// Orders levels from PASSIVE to DIRQL.
    public static func < (lhs: IRQL, rhs: IRQL) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `PASSIVE_LEVEL`, `DISPATCH_LEVEL` or `DIRQL`.
    public var description: String {
        switch self {
        case .passive: "PASSIVE_LEVEL"
        case .dispatch: "DISPATCH_LEVEL"
        case .dirql: "DIRQL"
        }
    }
}

/// The controller's PCI identity (configuration space), which a real bus driver reads
/// from PCI and uses for chipset quirks (SSYNC's offset) and for GetDeviceInformation V2.
public struct PCIIdentity: Hashable, Sendable {
    /// PCI vendor id.
    public var vendorId: UInt16
    /// PCI device id.
    public var deviceId: UInt16
    /// PCI revision id.
    public var revision: UInt8

    /// An identity.
    public init(vendorId: UInt16, deviceId: UInt16, revision: UInt8) {
        self.vendorId = vendorId
        self.deviceId = deviceId
        self.revision = revision
    }
}

/// Everything the bus driver may use of the machine it runs on: the controller's MMIO
/// registers, DMA memory, a stall, the interrupt line and the current IRQL.
///
/// The bus driver learns everything about the controller through this protocol; it
/// never sees the controller's own types. `VirtualPlatform` (module Azalia) implements it
/// over the virtual controller; a port to real hardware would implement it over MMIO.
public protocol HDAPlatform: Sendable {
    /// Reads an 8-bit register at an MMIO offset.
    func read8(_ offset: UInt32) -> UInt8
    /// Reads a 16-bit register at an MMIO offset.
    func read16(_ offset: UInt32) -> UInt16
    /// Reads a 32-bit register at an MMIO offset.
    func read32(_ offset: UInt32) -> UInt32
    /// Writes an 8-bit register at an MMIO offset.
    func write8(_ offset: UInt32, _ value: UInt8)
    /// Writes a 16-bit register at an MMIO offset.
    func write16(_ offset: UInt32, _ value: UInt16)
    /// Writes a 32-bit register at an MMIO offset.
    func write32(_ offset: UInt32, _ value: UInt32)

    /// The PCI identity of the controller (configuration space).
    var pciIdentity: PCIIdentity { get }

    /// The size of one DMA page in bytes (4096).
    var pageSize: Int { get }
    /// Allocates `count` DMA pages, physically contiguous or scattered, and returns their
    /// guest physical addresses in buffer order; nil when memory runs out (nothing is then
    /// left allocated).
    func allocatePages(count: Int, contiguous: Bool) -> [UInt64]?
    /// Frees pages returned by `allocatePages`.
    func freePages(_ pages: [UInt64])
    /// Reads guest memory; false when the range is not RAM.
    func readMemory(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool
    /// Writes guest memory; false when the range is not RAM.
    func writeMemory(_ address: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool
    /// Writes zeros over whole pages (page-aligned addresses); false when one is not RAM
    /// (the others are still zeroed). The default writes a page of zeros to each in turn;
    /// a platform may do it more cheaply.
    func zeroPages(_ pages: [UInt64]) -> Bool

    /// Busy-waits `microseconds` (KeStallExecutionProcessor). On the virtual platform this
    /// advances link time, and interrupts raised meanwhile are delivered.
    func stall(microseconds: UInt64)

    /// Polls the 8-bit register at `offset` until `done` accepts the value read: a read,
    /// then, while not done and less than `limit` us waited, a stall of `every` us and
    /// another read. True when done. `done` only looks at the value (it must not call the
    /// platform). The default is that loop over `read8` and `stall`; a platform may run it
    /// more cheaply, with the same reads at the same times.
    func poll8(_ offset: UInt32, every: UInt64, limit: UInt64, until done: (UInt8) -> Bool) -> Bool

    /// Connects the interrupt service routine to the controller's interrupt line. The
    /// platform calls `isr` at DIRQL, one call at a time, never while it holds a lock the
    /// ISR's register accesses need; `isr` returns true when it claimed the interrupt, and
    /// the platform then calls `deferred` at DISPATCH_LEVEL (the ISR's DPC).
    func connectInterrupt(_ isr: @escaping @Sendable () -> Bool, deferred: @escaping @Sendable () -> Void)

    /// Runs `work` once at DISPATCH_LEVEL about `microseconds` from now (a one-shot timer
    /// DPC, KeSetTimer); false when the platform has no timer (the default), and `work` is
    /// then never run. The bus uses it for codec-response deadlines.
    func setTimer(microseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> Bool

    /// The calling thread's IRQL.
    var currentIRQL: IRQL { get }
    /// Runs `body` with the calling thread's IRQL raised to `level` (never lowered).
    func withIRQL<R, E: Error>(_ level: IRQL, _ body: () throws(E) -> R) throws(E) -> R
}

extension HDAPlatform {
    /// Reads and stalls in turn (see the requirement).
    public func poll8(_ offset: UInt32, every: UInt64, limit: UInt64, until done: (UInt8) -> Bool) -> Bool {
        var waited: UInt64 = 0
        while true {
            if done(read8(offset)) { return true }
            if waited >= limit { return false }
            stall(microseconds: every)
            waited += every
        }
    }

    /// A page of zeros written to each page in turn (see the requirement).
    public func zeroPages(_ pages: [UInt64]) -> Bool {
        let zeros = [UInt8](repeating: 0, count: pageSize)
        var all = true
        for page in pages where !writeMemory(page, bytes: zeros) { all = false }
        return all
    }

    /// No timer: false.
    public func setTimer(microseconds: UInt64, _ work: @escaping @Sendable () -> Void) -> Bool { false }

    /// Reads `count` bytes of guest memory, or nil when the range is not RAM.
    public func readMemory(_ address: UInt64, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBytes { readMemory(address, into: $0) }
        return ok ? bytes : nil
    }

    /// Writes bytes to guest memory; false when the range is not RAM.
    @discardableResult
    public func writeMemory(_ address: UInt64, bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeMemory(address, from: $0) }
    }

    /// Reads a little-endian 32-bit value from guest memory, or nil.
    public func readMemory32(_ address: UInt64) -> UInt32? {
        guard let b = readMemory(address, count: 4) else { return nil }
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
}
