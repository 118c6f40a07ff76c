import HDAudio

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
        return GuestAddress(pages[at / pageSize]).adding(UInt64(at % pageSize))?.rawValue
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
