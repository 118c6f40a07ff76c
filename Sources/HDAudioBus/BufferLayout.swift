import HDAudio

/// The size rounding and BDL layout of AllocateDmaBuffer and AllocateDmaBufferWithNotification.
///
/// **Decision** (issue 5, reference sections 1 and 5): the allocated size is the legal
/// size closest to the request (a tie goes to the larger size; a request above the
/// largest legal size gets the largest). A size is legal when it is a whole number of
/// sample blocks, the buffer starts at the start of its first page (OffsetFromFirstPage
/// = 0) and it can be described by 2 to 256 BDL entries that each start 128-byte
/// aligned. Entries end at page boundaries; a buffer that fits one page is split in two
/// at a 128-byte boundary (LVI must be at least 1). With two notifications the midpoint
/// must be both a whole number of blocks and 128-byte aligned, and an entry ends exactly
/// there. IOC: with one notification on the entry that ends the buffer; with two, also on
/// the entry that ends the first half; a plain AllocateDmaBuffer buffer has no IOC.
public enum DmaBufferLayout {
    /// One BDL entry of a layout, relative to the start of the buffer.
    public struct Entry: Hashable, Sendable {
        /// Offset of the entry's first byte in the buffer.
        public var offset: Int
        /// Length in bytes.
        public var length: Int
        /// IOC flag.
        public var interruptOnCompletion: Bool
    }

    /// The DMA page size the layout assumes.
    public static let pageSize = 4096
    /// The largest buffer 256 page-sized entries describe: 1 MiB.
    public static let maxBytes = BDLEntry.maxEntries * pageSize
    /// Entry alignment.
    static let alignment = Int(BDLEntry.alignment)

    /// The step between legal sizes: a block, or, with two notifications, twice the
    /// least common multiple of a block and 128 bytes.
    public static func unit(blockBytes: Int, notifications: Int) -> Int {
        notifications == 2 ? 2 * lcm(blockBytes, alignment) : blockBytes
    }

    /// The BDL entries of a buffer of `size` bytes, or nil when `size` is not legal.
    public static func entries(size: Int, blockBytes: Int, notifications: Int) -> [Entry]? {
        guard blockBytes > 0, size > 0, size % unit(blockBytes: blockBytes, notifications: notifications) == 0
        else { return nil }
        // Cut points: page boundaries, the midpoint with two notifications.
        var cuts = Set<Int>()
        var page = pageSize
        while page < size { cuts.insert(page); page += pageSize }
        let mid = size / 2
        if notifications == 2 { cuts.insert(mid) }
        if cuts.isEmpty {
            // One page, one notification or none: split at a 128-byte boundary near the middle.
            let split = max(alignment, (size / 2) / alignment * alignment)
            guard split < size else { return nil }
            cuts.insert(split)
        }
        let bounds = [0] + cuts.sorted() + [size]
        guard bounds.count - 1 <= BDLEntry.maxEntries else { return nil }
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
    public static func isLegal(size: Int, blockBytes: Int, notifications: Int) -> Bool {
        entries(size: size, blockBytes: blockBytes, notifications: notifications) != nil
    }

    /// The largest legal size.
    public static func largestSize(blockBytes: Int, notifications: Int) -> Int {
        let step = unit(blockBytes: blockBytes, notifications: notifications)
        var size = maxBytes / step * step
        while size > 0 && !isLegal(size: size, blockBytes: blockBytes, notifications: notifications) { size -= step }
        return size
    }

    /// The legal size closest to `requested` (ties to the larger), or nil for a request of 0.
    public static func roundedSize(requested: Int, blockBytes: Int, notifications: Int) -> Int? {
        guard requested > 0, blockBytes > 0 else { return nil }
        let step = unit(blockBytes: blockBytes, notifications: notifications)
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
        s = (requested + step - 1) / step * step
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

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    static func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
}
