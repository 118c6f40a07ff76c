public import HDAudio
public import HDAudioBus
public import Testing

/// The buffer rules, written out independently of the bus's implementation, for a page
/// size (4 KiB unless a test says otherwise).
public enum Rules {
    public static let maxEntries = 256

    /// BDL entries needed for a buffer of `size` with entries cut at page ends (and at
    /// the midpoint with two notifications), or nil when the rules forbid the size.
    public static func entryCount(size: Int, block: Int, notifications: Int, page: Int = 4096) -> Int? {
        guard size > 0, size % block == 0 else { return nil }
        func pieces(_ from: Int, _ to: Int) -> Int {   // pieces of [from, to) cut at page boundaries
            (to + page - 1) / page - from / page
        }
        if notifications == 2 {
            guard size % 2 == 0 else { return nil }
            let mid = size / 2
            guard mid % block == 0, mid % 128 == 0 else { return nil }
            let n = pieces(0, mid) + pieces(mid, size)
            return n <= maxEntries ? n : nil
        }
        if size <= page {
            // One page must still be two entries (LVI >= 1), the second starting 128-aligned.
            return size > 128 ? 2 : nil
        }
        let n = pieces(0, size)
        return n <= maxEntries ? n : nil
    }

    public static func legal(_ size: Int, block: Int, notifications: Int, page: Int = 4096) -> Bool {
        entryCount(size: size, block: block, notifications: notifications, page: page) != nil
    }

    public static func largest(block: Int, notifications: Int, page: Int = 4096) -> Int {
        var s = maxEntries * page / block * block
        while s > 0 && !legal(s, block: block, notifications: notifications, page: page) { s -= block }
        return s
    }
}

/// A BDL read back from guest memory through the engine's registers.
public struct ProgrammedBDL {
    public var entries: [BDLEntry]
    public var cbl: UInt32
    public var lvi: UInt16
    public var bdlAddress: UInt64
    public var format: UInt16

    /// Reads the BDL engine `index` was programmed with, through its registers and guest memory.
    public init(platform: any HDAPlatform, index: Int) throws {
        let sd = HDARegister.streamDescriptor(index)
        cbl = platform.read32(sd + HDARegister.SD.cbl)
        lvi = platform.read16(sd + HDARegister.SD.lvi)
        format = platform.read16(sd + HDARegister.SD.fmt)
        bdlAddress = UInt64(platform.read32(sd + HDARegister.SD.bdpu)) << 32 | UInt64(platform.read32(sd + HDARegister.SD.bdpl))
        entries = try #require(readRawBdl(platform, at: bdlAddress, count: Int(lvi) + 1))
    }

    /// Checks the BDL against the rules and the MDL; returns the offsets of IOC entry ends.
    public func check(mdl: MemoryDescriptorList, size: Int, sourceLocation: SourceLocation = #_sourceLocation) -> [Int] {
        #expect(entries.count >= 2 && entries.count <= 256, sourceLocation: sourceLocation)
        #expect(Int(cbl) == size, sourceLocation: sourceLocation)
        #expect(bdlAddress % 128 == 0, sourceLocation: sourceLocation)
        var offset = 0
        var iocEnds: [Int] = []
        for e in entries {
            #expect(e.address % 128 == 0, "entry at \(offset) not 128-byte aligned", sourceLocation: sourceLocation)
            #expect(e.length > 0, sourceLocation: sourceLocation)
            #expect(e.address == mdl.physicalAddress(ofByte: offset), "entry at \(offset) is not the MDL's byte", sourceLocation: sourceLocation)
            // An entry never crosses a page of the scattered buffer.
            #expect(offset / 4096 == (offset + Int(e.length) - 1) / 4096, sourceLocation: sourceLocation)
            offset += Int(e.length)
            if e.interruptOnCompletion { iocEnds.append(offset) }
        }
        #expect(offset == size, sourceLocation: sourceLocation)
        return iocEnds
    }
}
