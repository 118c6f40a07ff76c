import HDAudio

/// The size rounding and BDL layout of AllocateDmaBuffer and AllocateDmaBufferWithNotification,
/// for one DMA page size (the platform's: `HDAPlatform.pageSize` is the only source).
///
/// **Decision** (reference sections 1 and 5): the allocated size is the legal size closest
/// to the request (a tie goes to the larger size; a request above the largest legal size
/// gets the largest). A size is legal when it is a whole number of sample blocks, the
/// buffer starts at the start of its first page (OffsetFromFirstPage = 0) and it can be
/// described by 2 to 256 BDL entries that each start 128-byte aligned. Entries end at page
/// boundaries, so no entry crosses a page whatever the page size; a buffer that fits one
/// page is split in two at a 128-byte boundary (LVI must be at least 1). With two
/// notifications the midpoint must be both a whole number of blocks and 128-byte aligned,
/// and an entry ends exactly there. IOC: with one notification on the entry that ends the
/// buffer; with two, also on the entry that ends the first half; a plain AllocateDmaBuffer
/// buffer has no IOC.
///
/// Legality is arithmetic (the number of cut points), so rounding costs a few steps of
/// the size unit, never a layout built per candidate.
public struct DmaBufferLayout: Hashable, Sendable {
    /// One BDL entry of a layout, relative to the start of the buffer.
    public struct Entry: Hashable, Sendable {
        /// Offset of the entry's first byte in the buffer.
        public var offset: Int
        /// Length in bytes.
        public var length: Int
        /// IOC flag.
        public var interruptOnCompletion: Bool
    }

    /// The DMA page size: entries end at its boundaries.
    public let pageSize: Int

    /// A layout for pages of `pageSize` bytes; nil unless the page size is a positive
    /// multiple of the 128-byte entry alignment (entries that start at a page boundary
    /// must be aligned).
    public init?(pageSize: Int) {
        guard pageSize > 0, pageSize % DmaBufferLayout.alignment == 0,
              !pageSize.multipliedReportingOverflow(by: BDLEntry.maxEntries).overflow
        else { return nil }
        self.pageSize = pageSize
    }

    /// The layout of 4 KiB pages (x86 and the virtual controller).
    public static let fourKiB = DmaBufferLayout(pageSize: 4096)!

    /// The largest buffer 256 page-sized entries describe (1 MiB with 4 KiB pages).
    public var maxBytes: Int { BDLEntry.maxEntries * pageSize }
    /// Entry alignment.
    static let alignment = Int(BDLEntry.alignment)

    /// The step between legal sizes: a block, or, with two notifications, twice the
    /// least common multiple of a block and 128 bytes. Nil for a block of 0 bytes or below.
    public static func unit(blockBytes: Int, notifications: Int) -> Int? {
        guard blockBytes > 0 else { return nil }
        guard notifications == 2 else { return blockBytes }
        guard let l = leastCommonMultiple(blockBytes, alignment) else { return nil }
        let (twice, overflow) = l.multipliedReportingOverflow(by: 2)
        return overflow ? nil : twice
    }

    /// The number of entries a buffer of `size` bytes needs, or nil when `size` is not legal.
    func entryCount(size: Int, blockBytes: Int, notifications: Int) -> Int? {
        guard size > 0, let step = Self.unit(blockBytes: blockBytes, notifications: notifications),
              size % step == 0 else { return nil }
        var cuts = (size - 1) / pageSize          // page boundaries strictly inside the buffer
        if notifications == 2 && (size / 2) % pageSize != 0 { cuts += 1 }
        if cuts == 0 {
            // One page, one notification or none: split at a 128-byte boundary near the middle.
            guard oneHalfSplit(size) < size else { return nil }
            cuts = 1
        }
        return cuts + 1 <= BDLEntry.maxEntries ? cuts + 1 : nil
    }

    /// Where a buffer that fits one page is split in two.
    private func oneHalfSplit(_ size: Int) -> Int {
        max(Self.alignment, (size / 2) / Self.alignment * Self.alignment)
    }

    /// The BDL entries of a buffer of `size` bytes, or nil when `size` is not legal.
    public func entries(size: Int, blockBytes: Int, notifications: Int) -> [Entry]? {
        guard let count = entryCount(size: size, blockBytes: blockBytes, notifications: notifications) else { return nil }
        let mid = size / 2
        // Cut points in order: page boundaries, the midpoint with two notifications, or the
        // one-page split.
        var bounds = [0]
        bounds.reserveCapacity(count + 1)
        var page = pageSize
        var midPending = notifications == 2
        while page < size {
            if midPending && mid <= page {
                if mid < page { bounds.append(mid) }
                midPending = false
            }
            bounds.append(page)
            page += pageSize
        }
        if midPending && mid > bounds.last! { bounds.append(mid) }
        if bounds.count == 1 { bounds.append(oneHalfSplit(size)) }
        bounds.append(size)
        var out: [Entry] = []
        out.reserveCapacity(bounds.count - 1)
        for i in 0..<(bounds.count - 1) {
            let end = bounds[i + 1]
            let ioc = notifications >= 1 && (end == size || (notifications == 2 && end == mid))
            out.append(Entry(offset: bounds[i], length: end - bounds[i], interruptOnCompletion: ioc))
        }
        return out
    }

    /// Whether `size` is legal for the block size and notification count.
    public func isLegal(size: Int, blockBytes: Int, notifications: Int) -> Bool {
        entryCount(size: size, blockBytes: blockBytes, notifications: notifications) != nil
    }

    /// The largest legal size (0 when none is).
    public func largestSize(blockBytes: Int, notifications: Int) -> Int {
        guard let step = Self.unit(blockBytes: blockBytes, notifications: notifications) else { return 0 }
        var size = maxBytes / step * step
        while size > 0 && !isLegal(size: size, blockBytes: blockBytes, notifications: notifications) { size -= step }
        return size
    }

    /// The legal size closest to `requested` (ties to the larger), or nil for a request of 0.
    public func roundedSize(requested: Int, blockBytes: Int, notifications: Int) -> Int? {
        guard requested > 0, let step = Self.unit(blockBytes: blockBytes, notifications: notifications) else { return nil }
        let largest = largestSize(blockBytes: blockBytes, notifications: notifications)
        guard largest > 0 else { return nil }
        if requested >= largest { return largest }
        var below: Int? = nil
        var s = requested / step * step
        while s > 0 {
            if isLegal(size: s, blockBytes: blockBytes, notifications: notifications) { below = s; break }
            s -= step
        }
        var above: Int? = nil
        s = (requested / step + (requested % step == 0 ? 0 : 1)) * step
        while s <= largest {
            if isLegal(size: s, blockBytes: blockBytes, notifications: notifications) { above = s; break }
            s += step
        }
        switch (below, above) {
        case let (b?, a?): return requested - b < a - requested ? b : a
        case let (b?, nil): return b
        case let (nil, a?): return a
        case (nil, nil): return largest
        }
    }
}
