public import HDAudio

/// One stretch of a guest's RAM that the host has mapped: guest physical addresses
/// `start ..< start + size` live at `host ..< host + size`.
///
/// A guest run by another process (QEMU's multi-process protocol hands over its RAM as
/// memory file descriptors) shows its RAM to Azalia as a handful of these; the holes
/// between them (the legacy VGA window, ROMs, MMIO) are not RAM, so DMA never reaches them.
public struct MappedRAMRegion {
    /// The first guest physical address of the region.
    public let start: GuestAddress
    /// Bytes in the region.
    public let size: UInt64
    /// Where the region's first byte is mapped in this process.
    public let host: UnsafeMutableRawPointer

    /// A region of `size` bytes at guest address `start`, mapped at `host`.
    public init(start: GuestAddress, size: UInt64, host: UnsafeMutableRawPointer) {
        self.start = start
        self.size = size
        self.host = host
    }

    /// The host bytes behind `[address, address + length)`, or nil unless one region holds
    /// every byte of it (an access that straddles two regions is not RAM, even when they
    /// happen to be adjacent: no DMA of a real driver does that).
    static func host(of address: GuestAddress, length: UInt64, in regions: [MappedRAMRegion]) -> UnsafeMutableRawPointer? {
        for r in regions {
            guard let offset = address.distance(from: r.start), offset <= r.size, length <= r.size - offset else { continue }
            return r.host + Int(offset)
        }
        return nil
    }
}

extension GuestMemory {
    /// Guest memory that is another machine's RAM, mapped into this process: only the
    /// given regions are RAM. The page allocator has no pages (the guest allocates its own).
    /// The caller keeps the mappings alive for as long as the memory is used.
    public convenience init(mapped regions: [MappedRAMRegion]) {
        self.init(pages: 0)
        mappedRegions = regions
    }

    /// Replaces the mapped regions (the guest's memory map changed). Only for memory made
    /// with `init(mapped:)`.
    public func remap(_ regions: [MappedRAMRegion]) {
        precondition(mappedRegions != nil, "remap is for mapped guest memory")
        mappedRegions = regions
    }

    /// The mapped regions, or nil for Azalia's own RAM.
    public var mappings: [MappedRAMRegion]? { mappedRegions }
}
