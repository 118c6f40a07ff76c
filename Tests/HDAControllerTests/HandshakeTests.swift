import HDAController
import HDAudio
import Testing

@Suite("CRST and SRST handshakes, FIFOS")
struct HandshakeTests {
    @Test("CRST reads 1 exactly crstExitFrames after it is written; codecs show in STATESTS 25 frames later",
          arguments: profileNames)
    func controllerResetExit(name: String) {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        let codec = TestCodec()
        c.attach(codec, at: 3)
        #expect(c.read32(HDARegister.gctl) & 1 == 0, "powers on in reset")
        c.write32(HDARegister.intctl, 0x8000_0000)
        #expect(c.read32(HDARegister.intctl) == 0, "in reset, only GCTL listens")
        c.write32(HDARegister.gctl, 1)
        if p.crstExitFrames > 0 {
            c.advance(frames: p.crstExitFrames - 1)
            #expect(c.read32(HDARegister.gctl) & 1 == 0)
        }
        c.advance(frames: 1)
        #expect(c.read32(HDARegister.gctl) & 1 == 1)
        c.advance(frames: UInt64(LinkTiming.codecWakeFrames) - 1)
        #expect(c.read16(HDARegister.statests) == 0)
        c.advance(frames: 1)
        #expect(c.read16(HDARegister.statests) == 1 << 3)
        c._checkInvariants()
    }

    @Test("Writing CRST = 0 puts every register back to its reset value and resets the codecs")
    func controllerResetEntry() {
        let p = ControllerProfile.ich6
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        let codec = TestCodec()
        c.attach(codec, at: 0)
        c.bringUp()
        c.write32(HDARegister.intctl, 0xC000_000F)
        c.write32(HDARegister.dplbase, 0x1000_0001)
        c.write32(c.sd(4, HDARegister.SD.cbl), 4096)
        c.write16(c.sd(4, HDARegister.SD.fmt), 0x0031)
        c.write32(HDARegister.gctl, 0)
        #expect(c.read32(HDARegister.gctl) == 0)
        for r in HDAController.registers(of: p) where r.aliasOf == nil {
            let width = min(r.width, 4)
            #expect(read(c, r.offset, width) == r.resetValue, "\(r.name) after CRST = 0")
        }
        #expect(codec.resets == 1)
        #expect(c.read16(HDARegister.statests) == 0)
        c._checkInvariants()
    }

    @Test("Fault: CRST never completes")
    func controllerResetFault() {
        let c = HDAController(memory: GuestMemory(pages: 4), faults: FaultInjection(crstNeverCompletes: true))
        c.write32(HDARegister.gctl, 1)
        c.advance(frames: 10_000)
        #expect(c.read32(HDARegister.gctl) & 1 == 0)
        c.faults = FaultInjection()
        c.write32(HDARegister.gctl, 0)
        c.write32(HDARegister.gctl, 1)
        c.advance(frames: c.profile.crstExitFrames)
        #expect(c.read32(HDARegister.gctl) & 1 == 1)
    }

    @Test("SRST reads 1 after srstFrames and resets the descriptor; clearing reads 0 after srstFrames",
          arguments: profileNames)
    func streamReset(name: String) {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        c.bringUp()
        let latency = p.srstFrames
        for n in 0..<p.gcap.totalEngines {
            c.write32(c.sd(n, HDARegister.SD.cbl), 0x1234)
            c.write16(c.sd(n, HDARegister.SD.lvi), 7)
            c.write16(c.sd(n, HDARegister.SD.fmt), 0x0031)
            c.write32(c.sd(n, HDARegister.SD.bdpl), 0x1000_0080)
            c.write32(c.sd(n, 0), 0x50_0004)   // tag 5, IOCE
            c.write8(c.sd(n, 0), 0x05)         // SRST
            #expect(c.read8(c.sd(n, 0)) & 1 == 0, "SD\(n) not yet latched")
            c.advance(frames: latency - 1)
            #expect(c.read8(c.sd(n, 0)) & 1 == 0)
            c.advance(frames: 1)
            #expect(c.read32(c.sd(n, 0)) == 1, "SD\(n) in reset: only SRST")
            #expect(c.read32(c.sd(n, HDARegister.SD.cbl)) == 0)
            #expect(c.read16(c.sd(n, HDARegister.SD.lvi)) == 0)
            #expect(c.read16(c.sd(n, HDARegister.SD.fmt)) == 0)
            #expect(c.read32(c.sd(n, HDARegister.SD.bdpl)) == 0)
            // Writes are ignored while held in reset.
            c.write32(c.sd(n, HDARegister.SD.cbl), 0x40)
            #expect(c.read32(c.sd(n, HDARegister.SD.cbl)) == 0)
            c.write8(c.sd(n, 0), 0)
            #expect(c.read8(c.sd(n, 0)) & 1 == 1, "SD\(n) not yet cleared")
            c.advance(frames: latency - 1)
            #expect(c.read8(c.sd(n, 0)) & 1 == 1)
            c.advance(frames: 1)
            #expect(c.read8(c.sd(n, 0)) & 1 == 0)
            c.write32(c.sd(n, HDARegister.SD.cbl), 0x40)
            #expect(c.read32(c.sd(n, HDARegister.SD.cbl)) == 0x40)
            c._checkInvariants()
        }
    }

    @Test("Fault: SRST never latches, and never clears, on the chosen descriptor only")
    func streamResetFaults() {
        let faults = FaultInjection(srstNeverLatches: [1], srstNeverClears: [2])
        let c = HDAController(memory: GuestMemory(pages: 4), faults: faults)
        c.bringUp()
        for n in 0..<3 { c.write8(c.sd(n, 0), 1) }
        c.advance(frames: 1000)
        #expect(c.read8(c.sd(0, 0)) & 1 == 1)
        #expect(c.read8(c.sd(1, 0)) & 1 == 0, "never latches")
        #expect(c.read8(c.sd(2, 0)) & 1 == 1)
        for n in 0..<3 { c.write8(c.sd(n, 0), 0) }
        c.advance(frames: 1000)
        #expect(c.read8(c.sd(0, 0)) & 1 == 0)
        #expect(c.read8(c.sd(1, 0)) & 1 == 0)
        #expect(c.read8(c.sd(2, 0)) & 1 == 1, "never clears")
        c._checkInvariants()
    }

    /// ICH6 datasheet FIFO sizes (SDnFIFOS + 1): output 192, 256 for 20/24-bit; input 120, 160 for 20/24-bit.
    static let fifoCases: [(bits: UInt16, output: Int, input: Int)] = [
        (8, 192, 120), (16, 192, 120), (20, 256, 160), (24, 256, 160), (32, 192, 120),
    ]

    @Test("SDnFIFOS follows every SDnFMT write by the ICH6 rule, per direction", arguments: profileNames)
    func fifoSize(name: String) throws {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        c.bringUp()
        for n in 0..<p.gcap.totalEngines {
            let kind = p.layout.kind(of: n)
            for directionOut in kind == .bidirectional ? [false, true] : [kind == .output] {
                if kind == .bidirectional { c.write32(c.sd(n, 0), directionOut ? StreamControl.dir : 0) }
                for (bits, output, input) in Self.fifoCases {
                    for channels: UInt16 in [1, 2, 8] {
                        let fmt = try ConverterFormat(StreamFormat(rate: 44100, bits: bits, channels: channels))
                        c.write16(c.sd(n, HDARegister.SD.fmt), fmt.rawValue)
                        let expected = (directionOut ? output : input) - 1
                        #expect(Int(c.read16(c.sd(n, HDARegister.SD.fifos))) == expected, "SD\(n) \(bits)-bit")
                    }
                }
            }
        }
    }
}

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
        m._checkInvariants()
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
}
