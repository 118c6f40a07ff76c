public import HDAudio

/// Why a guest memory operation failed: a value, never a trap.
public enum GuestMemoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Some byte of the access is not guest RAM (or the range overflows 64 bits).
    case notRAM(GuestAddress)
    /// Not enough free pages (or the injected page limit is reached); nothing was allocated.
    case outOfMemory
    /// A page count below zero.
    case invalidPageCount(Int)

    /// The reason in words.
    public var description: String {
        switch self {
        case .notRAM(let a): "\(a) is not guest RAM"
        case .outOfMemory: "guest memory is exhausted"
        case .invalidPageCount(let n): "\(n) is not a page count"
        }
    }
}

/// Guest RAM: 4 KiB pages starting at a non-zero base, so that address 0 and the
/// controller's MMIO window are not RAM.
///
/// Pages are handed out by `allocate(pages:contiguous:)`, scattered (in a fixed,
/// deterministic non-ascending order, so scatter-gather paths get exercised) or
/// physically contiguous. Every access is bounds-checked and returns
/// `GuestMemoryError.notRAM` rather than trapping. RAM is one host block, so any guest
/// range that is RAM is contiguous on the host too; the controller's DMA uses that to
/// move samples in bulk.
///
/// Fault injection: `pageLimit` caps the pages that may be allocated at once, so a test
/// can make allocation run out.
///
/// Like the controller that owns it, it is not Sendable and its callers serialise access, so
/// its allocation state is not exclusivity-checked at run time (see `HDAController`).
public final class GuestMemory {
    /// The page size.
    public static let pageSize = 4096
    /// The default base of RAM in guest physical space.
    public static let defaultBase = GuestAddress(0x1000_0000)

    /// The first byte of RAM.
    public let base: GuestAddress
    /// Pages of RAM.
    public let pageCount: Int
    /// Fault injection: at most this many pages may be allocated at once (nil: no limit).
    @exclusivity(unchecked) public var pageLimit: Int?
    /// How many times `free` was given a page that was not allocated (ignored otherwise).
    @exclusivity(unchecked) public private(set) var invalidFrees = 0

    let storage: UnsafeMutableRawPointer
    /// When set, RAM is these host mappings instead of `storage` (see `GuestMemoryMapping.swift`).
    var mappedRegions: [MappedRAMRegion]?
    @exclusivity(unchecked) private var allocated: [Bool]
    @exclusivity(unchecked) private var allocatedCount = 0
    private let scatterOrder: [Int]

    /// RAM of `pages` 4 KiB pages at `base` (default 0x1000_0000), zero-filled.
    public init(pages: Int, base: GuestAddress = GuestMemory.defaultBase) {
        let count = max(0, pages)
        precondition(base.adding(UInt64(count) * UInt64(Self.pageSize)) != nil, "guest RAM must fit below 2^64")
        self.base = base
        self.pageCount = count
        storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * Self.pageSize), alignment: Self.pageSize)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, count * Self.pageSize))
        allocated = [Bool](repeating: false, count: count)
        // A fixed permutation: pages taken with a stride coprime to the page count, so
        // consecutive allocations are not physically adjacent.
        var stride = 7
        while count > 1 && greatestCommonDivisor(stride, count) != 1 { stride += 2 }
        scatterOrder = (0..<count).map { ($0 * stride + count / 2) % max(count, 1) }
    }

    deinit { storage.deallocate() }

    /// Bytes of RAM.
    public var sizeInBytes: UInt64 { UInt64(pageCount) * UInt64(Self.pageSize) }
    /// Pages not allocated.
    public var freePages: Int { pageCount - allocatedCount }
    /// Pages allocated.
    public var allocatedPages: Int { allocatedCount }

    /// Allocates `pages` pages, scattered or physically contiguous, returning their
    /// page-aligned addresses in buffer order. `outOfMemory` leaves nothing allocated.
    public func allocate(pages: Int, contiguous: Bool) throws(GuestMemoryError) -> [GuestAddress] {
        guard pages >= 0 else { throw .invalidPageCount(pages) }
        if pages == 0 { return [] }
        // Compared without adding, so a huge count cannot overflow; a limit at or below the
        // allocated count (even a negative one) refuses everything without subtracting.
        if let limit = pageLimit, limit <= allocatedCount || pages > limit - allocatedCount { throw .outOfMemory }
        guard pages <= freePages else { throw .outOfMemory }
        var chosen: [GuestAddress] = []
        chosen.reserveCapacity(pages)
        if contiguous {
            var runStart = 0, runLength = 0
            for i in 0..<pageCount {
                if allocated[i] { runLength = 0; runStart = i + 1; continue }
                runLength += 1
                if runLength == pages { break }
            }
            guard runLength == pages else { throw .outOfMemory }
            for i in runStart..<(runStart + pages) {
                allocated[i] = true
                chosen.append(pageAddress(i))
            }
        } else {
            // `pages <= freePages`, so the scan finds them all.
            for i in scatterOrder where !allocated[i] {
                allocated[i] = true
                chosen.append(pageAddress(i))
                if chosen.count == pages { break }
            }
        }
        allocatedCount += pages
        return chosen
    }

    /// Frees pages. A page that is not allocated (or not RAM, or not page-aligned) is
    /// ignored and counted in `invalidFrees`.
    public func free(_ pages: [GuestAddress]) {
        for page in pages {
            guard let index = pageIndex(page), page.isAligned(to: UInt64(Self.pageSize)), allocated[index] else {
                invalidFrees += 1
                continue
            }
            allocated[index] = false
            allocatedCount -= 1
        }
    }

    /// True when the page at `address` is allocated.
    public func isAllocated(_ address: GuestAddress) -> Bool {
        guard let index = pageIndex(address) else { return false }
        return allocated[index]
    }

    /// True when every byte of [address, address + length) is RAM.
    public func isRAM(_ address: GuestAddress, length: UInt64) -> Bool {
        if let regions = mappedRegions { return MappedRAMRegion.host(of: address, length: length, in: regions) != nil }
        guard let offset = address.distance(from: base), offset <= sizeInBytes else { return false }
        return length <= sizeInBytes - offset
    }

    /// The host bytes behind a RAM range, or nil when any byte of it is not RAM. The pointer is valid
    /// while this memory lives; a caller that writes through it bypasses the RAM-only check it already passed.
    public func hostPointer(_ address: GuestAddress, length: UInt64) -> UnsafeMutableRawPointer? {
        if let regions = mappedRegions { return MappedRAMRegion.host(of: address, length: length, in: regions) }
        guard isRAM(address, length: length) else { return nil }
        return storage + Int(address.rawValue - base.rawValue)
    }

    /// Copies guest bytes into `buffer`.
    public func read(_ address: GuestAddress, into buffer: UnsafeMutableRawBufferPointer) throws(GuestMemoryError) {
        guard let source = hostPointer(address, length: UInt64(buffer.count)) else { throw .notRAM(address) }
        if let destination = buffer.baseAddress { destination.copyMemory(from: source, byteCount: buffer.count) }
    }

    /// Copies `buffer` into guest memory.
    public func write(_ address: GuestAddress, from buffer: UnsafeRawBufferPointer) throws(GuestMemoryError) {
        guard let destination = hostPointer(address, length: UInt64(buffer.count)) else { throw .notRAM(address) }
        if let source = buffer.baseAddress { destination.copyMemory(from: source, byteCount: buffer.count) }
    }

    /// Reads `count` bytes.
    public func read(_ address: GuestAddress, count: Int) throws(GuestMemoryError) -> [UInt8] {
        guard count >= 0, let source = hostPointer(address, length: UInt64(count)) else { throw .notRAM(address) }
        return [UInt8](UnsafeRawBufferPointer(start: source, count: count))
    }

    /// Writes `bytes`.
    public func write(_ address: GuestAddress, bytes: [UInt8]) throws(GuestMemoryError) {
        guard let destination = hostPointer(address, length: UInt64(bytes.count)) else { throw .notRAM(address) }
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// Reads a little-endian 32-bit value.
    public func readUInt32(_ address: GuestAddress) throws(GuestMemoryError) -> UInt32 {
        guard let source = hostPointer(address, length: 4) else { throw .notRAM(address) }
        return UInt32(littleEndian: source.loadUnaligned(as: UInt32.self))
    }

    /// Writes a little-endian 32-bit value.
    public func writeUInt32(_ address: GuestAddress, _ value: UInt32) throws(GuestMemoryError) {
        guard let destination = hostPointer(address, length: 4) else { throw .notRAM(address) }
        destination.storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    /// Reads a little-endian 64-bit value.
    public func readUInt64(_ address: GuestAddress) throws(GuestMemoryError) -> UInt64 {
        guard let source = hostPointer(address, length: 8) else { throw .notRAM(address) }
        return UInt64(littleEndian: source.loadUnaligned(as: UInt64.self))
    }

    /// Writes a little-endian 64-bit value.
    public func writeUInt64(_ address: GuestAddress, _ value: UInt64) throws(GuestMemoryError) {
        guard let destination = hostPointer(address, length: 8) else { throw .notRAM(address) }
        destination.storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    /// The allocator's bookkeeping problems, in words (empty when it is consistent).
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        if allocated.count != pageCount { problems.append("guest memory: page table size") }
        if allocated.filter({ $0 }).count != allocatedCount { problems.append("guest memory: allocated count") }
        if Set(scatterOrder).count != pageCount { problems.append("guest memory: scatter order is not a permutation") }
        return problems
    }

    private func pageAddress(_ index: Int) -> GuestAddress {
        GuestAddress(base.rawValue + UInt64(index) * UInt64(Self.pageSize))
    }

    private func pageIndex(_ address: GuestAddress) -> Int? {
        guard let offset = address.distance(from: base), offset < sizeInBytes else { return nil }
        return Int(offset / UInt64(Self.pageSize))
    }
}

