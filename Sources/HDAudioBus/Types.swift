public import HDAudio

/// A DMA engine handle (the hdaudio.h HANDLE of Allocate{Render,Capture}DmaEngine).
///
/// Opaque, and representable as a pointer-sized integer so that a C layer can pass it
/// as a HANDLE. It packs the owning client's id (bits 63:32), an allocation generation
/// (bits 31:8) and the engine's descriptor index (bits 7:0); the bus validates all three
/// against its engine table, so a freed, never-issued or foreign handle is
/// STATUS_INVALID_HANDLE and never reaches another client's engine.
public struct DmaEngineHandle: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The pointer-sized value.
    public let rawValue: UInt
    /// Wraps a pointer-sized value (any value; the bus validates it on use).
    public init(rawValue: UInt) { self.rawValue = rawValue }

    init(client: UInt32, generation: UInt32, slot: Int) {
        rawValue = UInt(client) << 32 | UInt(generation & 0xFF_FFFF) << 8 | UInt(slot & 0xFF)
    }

    var client: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }
    var generation: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 8) & 0xFF_FFFF }
    var slot: Int { Int(rawValue & 0xFF) }

    /// `0x0000000100000305`.
    public var description: String {
        let digits = String(rawValue, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// An MDL: the physical pages of a DMA buffer in buffer order.
///
/// The buffer starts at the start of the first page (ByteOffset = 0, the reference's
/// OffsetFromFirstPage Decision) and is `byteCount` bytes long.
public struct MemoryDescriptorList: Hashable, Sendable {
    /// Guest physical addresses of the pages, in buffer order.
    public let pages: [UInt64]
    /// The buffer's length in bytes.
    public let byteCount: Int
    /// The offset of the buffer into its first page: always 0.
    public let byteOffset: Int
    /// The page size the MDL was built with.
    public let pageSize: Int

    /// An MDL.
    public init(pages: [UInt64], byteCount: Int, byteOffset: Int = 0, pageSize: Int = 4096) {
        self.pages = pages
        self.byteCount = byteCount
        self.byteOffset = byteOffset
        self.pageSize = pageSize
    }

    /// The guest physical address of byte `offset` of the buffer, or nil past its end.
    public func physicalAddress(ofByte offset: Int) -> UInt64? {
        guard offset >= 0, offset < byteCount else { return nil }
        let at = offset + byteOffset
        return pages[at / pageSize] + UInt64(at % pageSize)
    }

    /// The physically contiguous pieces of `range` of the buffer, each split at page ends.
    public func segments(of range: Range<Int>) -> [(address: UInt64, count: Int)] {
        var out: [(UInt64, Int)] = []
        var at = max(0, range.lowerBound)
        let end = min(byteCount, range.upperBound)
        while at < end {
            let inPage = (at + byteOffset) % pageSize
            let n = min(pageSize - inPage, end - at)
            out.append((pages[(at + byteOffset) / pageSize] + UInt64(inPage), n))
            at += n
        }
        return out
    }
}

/// A physically contiguous piece of DMA memory (AllocateContiguousDmaBuffer's outputs).
public struct DmaMemory: Hashable, Sendable {
    /// Its guest physical address (page-aligned).
    public let address: UInt64
    /// Its length in bytes.
    public let length: Int

    /// A piece of memory.
    public init(address: UInt64, length: Int) {
        self.address = address
        self.length = length
    }
}

/// AllocateRenderDmaEngine / AllocateCaptureDmaEngine outputs.
public struct DmaEngineAllocation: Hashable, Sendable {
    /// The engine's handle.
    public let handle: DmaEngineHandle
    /// The format encoded for the codec's converter (the vocabulary's encoding).
    public let converterFormat: ConverterFormat
}

/// AllocateDmaBuffer outputs.
public struct DmaBufferAllocation: Hashable, Sendable {
    /// BufferMdl: the buffer's pages.
    public let mdl: MemoryDescriptorList
    /// AllocatedBufferSize in bytes.
    public let allocatedBufferSize: Int
    /// StreamId: the engine's stream tag.
    public let streamId: UInt8
    /// FifoSize: SDnFIFOS + 1, in bytes.
    public let fifoSize: UInt32
}

/// AllocateDmaBufferWithNotification outputs.
public struct NotificationBufferAllocation: Hashable, Sendable {
    /// BufferMdl: the buffer's pages.
    public let mdl: MemoryDescriptorList
    /// AllocatedBufferSize in bytes.
    public let allocatedBufferSize: Int
    /// OffsetFromFirstPage: always 0 (reference section 5 Decision).
    public let offsetFromFirstPage: Int
    /// StreamId: the engine's stream tag.
    public let streamId: UInt8
    /// FifoSize: SDnFIFOS + 1, in bytes.
    public let fifoSize: UInt32
}

/// AllocateContiguousDmaBuffer outputs.
public struct ContiguousDmaBuffer: Hashable, Sendable {
    /// DataBuffer: the physically contiguous data buffer (whole pages).
    public let dataBuffer: DmaMemory
    /// BdlBuffer: one page-aligned page for the client's BDL, uninitialised.
    public let bdlBuffer: DmaMemory
}

/// SetupDmaEngineWithBdl outputs.
public struct BdlEngineSetup: Hashable, Sendable {
    /// StreamId: the engine's stream tag.
    public let streamId: UInt8
    /// FifoSize: SDnFIFOS + 1, in bytes.
    public let fifoSize: UInt32
}

/// The ISR a BDL-interface client passes to SetupDmaEngineWithBdl (PHDAUDIO_DMA_NOTIFICATION_CALLBACK).
///
/// Called at DIRQL with InterruptBitMask holding only bits 2 (BCIS), 3 (FIFOE) and 4
/// (DESE) of SDnSTS, for errors as well as for IOC, and with the client's context.
public typealias BdlInterruptHandler = @Sendable (_ interruptBitMask: UInt32, _ context: UInt) -> Void

/// HDAUDIO_DEVICE_INFORMATION (BASE) or HDAUDIO_DEVICE_INFORMATION_V2, by Size.
public struct DeviceInformation: Hashable, Sendable {
    /// sizeof(HDAUDIO_DEVICE_INFORMATION): 10 bytes.
    public static let baseSize = 10
    /// sizeof(HDAUDIO_DEVICE_INFORMATION_V2): 14 bytes.
    public static let v2Size = 14

    /// Size: the size of the form filled (baseSize or v2Size).
    public var size: Int
    /// DeviceVersion: VMAJ << 8 | VMIN.
    public var deviceVersion: UInt16
    /// DriverVersion: the bus driver's version.
    public var driverVersion: UInt16
    /// CodecsDetected: the number of codecs STATESTS showed at start.
    public var codecsDetected: UInt16
    /// IsStripingSupported: at least two SDO lines (GCAP.NSDO).
    public var isStripingSupported: Bool
    /// V2 only: CtrlRevision, the PCI revision id.
    public var ctrlRevision: UInt8?
    /// V2 only: CtrlVendorId, the PCI vendor id.
    public var ctrlVendorId: UInt16?
    /// V2 only: CtrlDeviceId, the PCI device id.
    public var ctrlDeviceId: UInt16?
}

/// A live, read-only view of a 32-bit counter register (GetWallClockRegister,
/// GetLinkPositionRegister): every read of `value` reads the hardware.
public struct RegisterView: Sendable {
    let reader: @Sendable () -> UInt32
    /// The register's current value.
    public var value: UInt32 { reader() }
}

extension HDAPlatform {
    /// Copies `bytes` into a DMA buffer at byte `offset`, page by page through its MDL
    /// (what a client does through the buffer's system address). False when the range is
    /// not inside the buffer or not RAM.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer, to mdl: MemoryDescriptorList, at offset: Int) -> Bool {
        guard offset >= 0, offset <= mdl.byteCount - bytes.count else { return false }   // no overflow for any offset
        var done = 0
        for (address, count) in mdl.segments(of: offset..<(offset + bytes.count)) {
            guard writeMemory(address, from: UnsafeRawBufferPointer(rebasing: bytes[done..<(done + count)])) else { return false }
            done += count
        }
        return true
    }

    /// Copies bytes out of a DMA buffer at byte `offset` through its MDL. False when the
    /// range is not inside the buffer or not RAM.
    @discardableResult
    public func read(_ mdl: MemoryDescriptorList, at offset: Int, into bytes: UnsafeMutableRawBufferPointer) -> Bool {
        guard offset >= 0, offset <= mdl.byteCount - bytes.count else { return false }   // no overflow for any offset
        var done = 0
        for (address, count) in mdl.segments(of: offset..<(offset + bytes.count)) {
            guard readMemory(address, into: UnsafeMutableRawBufferPointer(rebasing: bytes[done..<(done + count)])) else { return false }
            done += count
        }
        return true
    }
}
