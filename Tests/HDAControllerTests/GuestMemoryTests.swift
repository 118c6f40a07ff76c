import HDAController
import HDAudio
import Testing

@Suite("Guest memory")
struct GuestMemoryTests {
    @Test("Scattered and contiguous allocation, exhaustion leaves nothing allocated, bad frees are counted")
    func allocation() throws {
        let m = GuestMemory(pages: 16)
        #expect(m.base.rawValue != 0)
        let scattered = try m.allocate(pages: 4, contiguous: false)
        #expect(Set(scattered).count == 4)
        #expect(scattered.allSatisfy { $0.isAligned(to: 4096) && m.isAllocated($0) })
        #expect(zip(scattered, scattered.dropFirst()).contains { $0.1.rawValue != $0.0.rawValue + 4096 },
                "scattered pages are not one ascending run")
        let run = try m.allocate(pages: 5, contiguous: true)
        #expect(zip(run, run.dropFirst()).allSatisfy { $0.1.rawValue == $0.0.rawValue + 4096 })
        #expect(m.allocatedPages == 9 && m.freePages == 7)
        #expect(throws: GuestMemoryError.outOfMemory) { try m.allocate(pages: 8, contiguous: false) }
        #expect(m.allocatedPages == 9)
        m.pageLimit = 10
        #expect(throws: GuestMemoryError.outOfMemory) { try m.allocate(pages: 2, contiguous: false) }
        _ = try m.allocate(pages: 1, contiguous: false)
        m.free(scattered)
        m.free([scattered[0], GuestAddress(0), GuestAddress(m.base.rawValue + 1)])
        #expect(m.invalidFrees == 3)
        #expect(m.allocatedPages == 6)
        #expect(m.checkInvariants() == [])
    }

    @Test("Reading or writing outside RAM is notRAM, never a trap; addresses only add with overflow checks")
    func bounds() throws {
        let m = GuestMemory(pages: 2)
        #expect(throws: GuestMemoryError.notRAM(GuestAddress(0))) { try m.readUInt32(GuestAddress(0)) }
        let end = m.base.adding(UInt64(2 * 4096))!
        #expect(throws: GuestMemoryError.self) { try m.writeUInt32(end, 1) }
        #expect(throws: GuestMemoryError.self) { try m.writeUInt64(GuestAddress(end.rawValue - 4), 1) }
        #expect(throws: GuestMemoryError.self) { try m.read(GuestAddress(UInt64.max - 2), count: 8) }
        #expect(GuestAddress(UInt64.max).adding(1) == nil)
        try m.writeUInt64(m.base, 0x1122_3344_5566_7788)
        #expect(try m.read(m.base, count: 2) == [0x88, 0x77])
        #expect(try m.readUInt32(m.base.adding(4)!) == 0x1122_3344)
    }


    @Test("Page accounting: allocate 0 pages, free inside a contiguous run, double free, pageLimit at its edge, negative counts")
    func pageAccounting() throws {
        let m = GuestMemory(pages: 8)
        m.pageLimit = 0
        #expect(try m.allocate(pages: 0, contiguous: true).isEmpty && m.allocatedPages == 0)
        #expect(throws: GuestMemoryError.invalidPageCount(-1)) { try m.allocate(pages: -1, contiguous: false) }
        m.pageLimit = 5
        let run = try m.allocate(pages: 4, contiguous: true)
        m.free([run[1]])
        #expect(!m.isAllocated(run[1]) && m.isAllocated(run[0]) && m.isAllocated(run[2]) && m.allocatedPages == 3)
        m.free([run[1]])
        #expect(m.invalidFrees == 1 && m.allocatedPages == 3)
        _ = try m.allocate(pages: 2, contiguous: false)
        #expect(m.allocatedPages == 5)
        #expect(throws: GuestMemoryError.outOfMemory) { try m.allocate(pages: 1, contiguous: false) }
        m.pageLimit = nil
        // Pages 0, 2, 3 of the run and two scattered ones are taken: 3 free, maybe not adjacent.
        #expect(m.freePages == 3)
        #expect(m.checkInvariants() == [])
    }

    @Test("pageLimit with a huge page count is outOfMemory, never an overflow trap")
    func pageLimitOverflow() throws {
        let m = GuestMemory(pages: 4)
        m.pageLimit = 2
        _ = try m.allocate(pages: 1, contiguous: false)
        #expect(throws: GuestMemoryError.outOfMemory) { try m.allocate(pages: Int.max, contiguous: false) }
    }

    @Test("GuestAddress at UInt64.max: checked arithmetic, and memory accesses there are notRAM")
    func addressAtTop() throws {
        let top = GuestAddress(UInt64.max)
        #expect(top.adding(0) == top && top.adding(1) == nil && GuestAddress(0).adding(UInt64.max) == top)
        #expect(top.distance(from: GuestAddress(0)) == UInt64.max && GuestAddress(0).distance(from: top) == nil)
        #expect(top.isAligned(to: 1) && !top.isAligned(to: 2) && top.low32 == 0xFFFF_FFFF && top.high32 == 0xFFFF_FFFF)
        let m = GuestMemory(pages: 2)
        #expect(!m.isRAM(top, length: 0) && !m.isRAM(top, length: 1) && !m.isRAM(m.base, length: UInt64.max))
        #expect(throws: GuestMemoryError.self) { try m.readUInt64(GuestAddress(UInt64.max - 7)) }
        #expect(throws: GuestMemoryError.self) { try m.read(m.base, count: -1) }
        try m.write(m.base, bytes: [])
        let end = m.base.adding(m.sizeInBytes)!
        #expect(try m.read(end, count: 0).isEmpty)
        #expect(throws: GuestMemoryError.self) { try m.read(end, count: 1) }
        #expect(!m.isAllocated(top))
    }
}
