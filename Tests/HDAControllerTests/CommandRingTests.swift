import HDAController
import HDAudio
import Testing
import TestSupport

/// A controller with CORB and RIRB set up in guest memory, both running.
struct Rings {
    let c: HDAController
    let corb: GuestAddress
    let rirb: GuestAddress
    let entries: Int
    var wp = 0

    init(entries: Int, codecs: [Int: TestCodec], rintcnt: UInt16 = 1, interrupts: Bool = true) throws {
        c = HDAController(memory: GuestMemory(pages: 16))
        for (address, codec) in codecs { c.attach(codec, at: address) }
        c.bringUp()
        self.entries = entries
        corb = try c.memory.allocate(pages: 1, contiguous: true)[0]
        rirb = try c.memory.allocate(pages: 1, contiguous: true)[0]
        let size = RingSize.allCases.first { $0.entries == entries }!.rawValue
        c.write32(HDARegister.corblbase, corb.low32)
        c.write32(HDARegister.corbubase, corb.high32)
        c.write8(HDARegister.corbsize, size)
        c.write16(HDARegister.corbrp, CorbReadPointer.reset)
        #expect(c.read16(HDARegister.corbrp) == CorbReadPointer.reset, "CORBRP reset bit reads back 1")
        c.write16(HDARegister.corbrp, 0)
        #expect(c.read16(HDARegister.corbrp) == 0)
        c.write32(HDARegister.rirblbase, rirb.low32)
        c.write32(HDARegister.rirbubase, rirb.high32)
        c.write8(HDARegister.rirbsize, size)
        c.write16(HDARegister.rirbwp, RirbWritePointer.reset)
        c.write16(HDARegister.rintcnt, rintcnt)
        c.write8(HDARegister.rirbctl, interrupts ? RirbControl.writable : RirbControl.dmaEnable)
        c.write8(HDARegister.corbctl, CorbControl.run)
        if interrupts { c.write32(HDARegister.intctl, InterruptBits.global | InterruptBits.controller) }
    }

    /// Queues verbs in the CORB and moves CORBWP.
    mutating func send(_ verbs: [UInt32]) throws {
        for verb in verbs {
            wp = (wp + 1) % entries
            try c.memory.writeUInt32(corb.adding(UInt64(4 * wp))!, verb)
        }
        c.write16(HDARegister.corbwp, UInt16(wp))
    }

    /// The RIRB entry at `index`: (response, extended).
    func response(_ index: Int) throws -> (UInt32, UInt32) {
        (try c.memory.readUInt32(rirb.adding(UInt64(8 * index))!), try c.memory.readUInt32(rirb.adding(UInt64(8 * index + 4))!))
    }
}

func verb(codec: Int, node: Int, payload: UInt32) -> UInt32 { UInt32(codec) << 28 | UInt32(node) << 20 | payload }

@Suite("CORB and RIRB")
struct CommandRingTests {
    @Test("A verb leaves the CORB in one frame and its response lands in the RIRB in the next")
    func timing() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 256, codecs: [2: codec])
        try r.send([verb(codec: 2, node: 1, payload: 0xF0000)])
        r.c.advance(frames: 1)
        #expect(r.c.read16(HDARegister.corbrp) == 1)
        #expect(codec.verbs == [verb(codec: 2, node: 1, payload: 0xF0000)])
        #expect(r.c.read16(HDARegister.rirbwp) == 0, "no response yet")
        r.c.advance(frames: 1)
        #expect(r.c.read16(HDARegister.rirbwp) == 1)
        let (response, ext) = try r.response(1)
        #expect(response == verb(codec: 2, node: 1, payload: 0xF0000) ^ 0xABCD_0000)
        #expect(ext == 2)
        #expect(r.c.read8(HDARegister.rirbsts) & 1 == 1, "RINTFL after RINTCNT = 1 response")
        #expect(r.c.read32(HDARegister.intsts) == InterruptBits.global | InterruptBits.controller)
        #expect(r.c.interruptAsserted)
        r.c.write8(HDARegister.rirbsts, 1)
        #expect(!r.c.interruptAsserted)
        #expect(r.c.checkInvariants() == [])
    }

    @Test("One verb per frame leaves the CORB; round trips survive wrap-around of both rings", arguments: [2, 16, 256])
    func wrapAround(entries: Int) throws {
        let a = TestCodec(), b = TestCodec()
        var r = try Rings(entries: entries, codecs: [0: a, 3: b], rintcnt: 0, interrupts: false)
        var expected: [(UInt32, UInt32)] = []
        var collected: [(UInt32, UInt32)] = []
        var rirbRead = 0
        for round in 0..<40 {
            let batch = min(entries - 1, 1 + round % 3)
            let verbs = (0..<batch).map { verb(codec: ($0 + round) % 2 == 0 ? 0 : 3, node: round, payload: UInt32($0)) }
            try r.send(verbs)
            expected += verbs.map { ($0 ^ 0xABCD_0000, $0 >> 28) }
            let rp0 = Int(r.c.read16(HDARegister.corbrp))
            r.c.advance(frames: 1)
            #expect(Int(r.c.read16(HDARegister.corbrp)) == (rp0 + 1) % entries, "one verb per frame")
            r.c.advance(frames: UInt64(batch) + 1)
            let wp = Int(r.c.read16(HDARegister.rirbwp))
            while rirbRead != wp {
                rirbRead = (rirbRead + 1) % entries
                collected.append(try r.response(rirbRead))
            }
        }
        #expect(collected.count == expected.count)
        #expect(collected.map(\.0) == expected.map(\.0) && collected.map(\.1) == expected.map(\.1))
        #expect(a.verbs.count + b.verbs.count == expected.count)
    }

    @Test("RINTFL after RINTCNT responses, or at the first empty response slot")
    func responseCount() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 256, codecs: [0: codec], rintcnt: 3)
        try r.send((0..<5).map { verb(codec: 0, node: 1, payload: UInt32($0)) })
        var flagFrames: [Int] = []
        for f in 1...8 {
            r.c.advance(frames: 1)
            if r.c.read8(HDARegister.rirbsts) & 1 != 0 {
                flagFrames.append(f)
                r.c.write8(HDARegister.rirbsts, 1)
            }
        }
        // Responses land in frames 2...6: the third in frame 4, then two more and an empty slot in frame 7.
        #expect(flagFrames == [4, 7])
    }

    @Test("Unsolicited responses reach the RIRB tagged as such, only with GCTL.UNSOL")
    func unsolicited() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 16, codecs: [5: codec], interrupts: false)
        codec.unsolicited = [0x0400_0000]
        r.c.advance(frames: 10)
        #expect(r.c.read16(HDARegister.rirbwp) == 0, "UNSOL off: not polled")
        r.c.write32(HDARegister.gctl, GlobalControl.crst | GlobalControl.unsol)
        r.c.advance(frames: 3)
        #expect(r.c.read16(HDARegister.rirbwp) == 1)
        let (response, ext) = try r.response(1)
        #expect(response == 0x0400_0000 && ext == 0x10 | 5)
        // A solicited response and an unsolicited one of the same codec take separate frames.
        codec.unsolicited = [0x0800_0000]
        try r.send([verb(codec: 5, node: 2, payload: 7)])
        r.c.advance(frames: 4)
        #expect(r.c.read16(HDARegister.rirbwp) == 3)
        #expect(codec.unsolicited.isEmpty)
    }

    @Test("A response with the RIRB DMA off is dropped as an overrun and interrupts when RIRBOIC allows")
    func overrun() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 16, codecs: [0: codec])
        r.c.write8(HDARegister.rirbctl, RirbControl.overrunInterrupt)   // DMA off, overrun interrupt on
        try r.send([verb(codec: 0, node: 0, payload: 1)])
        r.c.advance(frames: 2)
        #expect(r.c.read8(HDARegister.rirbsts) & 0x4 != 0)
        #expect(r.c.read16(HDARegister.rirbwp) == 0)
        #expect(r.c.interruptAsserted)
        r.c.write8(HDARegister.rirbsts, 0x4)
        #expect(!r.c.interruptAsserted)
    }

    @Test("A verb to an absent or silent codec gets no response; the CORB moves on")
    func noAnswer() throws {
        let silent = TestCodec()
        silent.answers = false
        var r = try Rings(entries: 16, codecs: [1: silent])
        try r.send([verb(codec: 1, node: 0, payload: 1), verb(codec: 9, node: 0, payload: 2)])
        r.c.advance(frames: 5)
        #expect(r.c.read16(HDARegister.corbrp) == 2)
        #expect(r.c.read16(HDARegister.rirbwp) == 0)
        #expect(r.c.read8(HDARegister.rirbsts) == 0)
    }

    @Test("A CORB that is not RAM raises CMEI and stops the CORB")
    func memoryError() throws {
        var r = try Rings(entries: 16, codecs: [0: TestCodec()])
        r.c.write8(HDARegister.corbctl, 0)
        r.c.write32(HDARegister.corblbase, 0xFED0_0000)
        r.c.write32(HDARegister.corbubase, 0)
        r.c.write8(HDARegister.corbctl, CorbControl.run | CorbControl.memoryErrorInterrupt)
        try? r.send([])
        r.c.write16(HDARegister.corbwp, 1)
        r.c.advance(frames: 1)
        #expect(r.c.read8(HDARegister.corbsts) == 1)
        #expect(r.c.read8(HDARegister.corbctl) & CorbControl.run == 0)
        #expect(r.c.interruptAsserted)
    }


    @Test("CORBRP reset (bit 15, by byte write) zeroes a non-zero read pointer and reads 1 until cleared; RIRBWP reset zeroes the write pointer and reads 0")
    func pointerResets() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 16, codecs: [0: codec], interrupts: false)
        try r.send((0..<3).map { verb(codec: 0, node: 1, payload: UInt32($0)) })
        r.c.advance(frames: 6)
        #expect(r.c.read16(HDARegister.corbrp) == 3 && r.c.read16(HDARegister.rirbwp) == 3)
        r.c.write8(HDARegister.corbctl, 0)
        r.c.write8(HDARegister.rirbctl, 0)
        r.c.write8(HDARegister.corbrp + 1, 0x80)
        #expect(r.c.read16(HDARegister.corbrp) == CorbReadPointer.reset)
        r.c.write8(HDARegister.corbrp, 0xFF)   // the pointer itself is read-only
        #expect(r.c.read16(HDARegister.corbrp) == CorbReadPointer.reset)
        r.c.write8(HDARegister.corbrp + 1, 0)
        #expect(r.c.read16(HDARegister.corbrp) == 0)
        r.c.write8(HDARegister.rirbwp + 1, 0x80)
        #expect(r.c.read16(HDARegister.rirbwp) == 0)
        r.c.write16(HDARegister.rirbwp, 0x00FF)   // writing the pointer bits changes nothing
        #expect(r.c.read16(HDARegister.rirbwp) == 0)
        r.c.write16(HDARegister.corbwp, 0)
        r.wp = 0
        r.c.write8(HDARegister.rirbctl, RirbControl.dmaEnable)
        r.c.write8(HDARegister.corbctl, CorbControl.run)
        try r.send([verb(codec: 0, node: 2, payload: 9)])
        r.c.advance(frames: 2)
        #expect(r.c.read16(HDARegister.corbrp) == 1 && r.c.read16(HDARegister.rirbwp) == 1)
        #expect(try r.response(1).0 == verb(codec: 0, node: 2, payload: 9) ^ 0xABCD_0000)
        #expect(codec.verbs.count == 4, "the reset did not resend old verbs")
    }

    @Test("RINTCNT = 0 means 256: RINTFL rises with the 256th response of an unbroken run")
    func rintcntZeroIs256() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 256, codecs: [0: codec], rintcnt: 0, interrupts: false)
        try r.send((0..<255).map { verb(codec: 0, node: 0, payload: UInt32($0)) })
        var flagged: [Int] = []
        for f in 1...300 {
            if f == 129 { try r.send((0..<128).map { verb(codec: 0, node: 1, payload: UInt32($0)) }) }
            r.c.advance(frames: 1)
            if r.c.read8(HDARegister.rirbsts) & 1 != 0 {
                flagged.append(f)
                r.c.write8(HDARegister.rirbsts, 1)
            }
        }
        // Verb i leaves in frame i and its response lands in frame i + 1: the 256th in frame 257.
        #expect(flagged.first == 257)
    }

    @Test("RIRBSTS (RINTFL, RIRBOIS) and CORBSTS (CMEI) clear only the bits written 1; reserved bits read 0")
    func ringStatusW1C() throws {
        var r = try Rings(entries: 16, codecs: [0: TestCodec()], interrupts: false)
        r.c.write8(HDARegister.rirbctl, RirbControl.responseInterrupt)          // RIRB DMA off: the response overruns
        try r.send([verb(codec: 0, node: 0, payload: 0)])
        r.c.advance(frames: 2)
        r.c.write8(HDARegister.rirbctl, RirbControl.responseInterrupt | RirbControl.dmaEnable)
        try r.send([verb(codec: 0, node: 0, payload: 1)])
        r.c.advance(frames: 3)
        #expect(r.c.read8(HDARegister.rirbsts) == 0x5)
        r.c.write8(HDARegister.rirbsts, 0xFA)
        #expect(r.c.read8(HDARegister.rirbsts) == 0x5)
        r.c.write8(HDARegister.rirbsts, 0x1)
        #expect(r.c.read8(HDARegister.rirbsts) == 0x4)
        r.c.write8(HDARegister.rirbsts, 0x4)
        #expect(r.c.read8(HDARegister.rirbsts) == 0)
        r.c.write8(HDARegister.corbctl, 0)
        r.c.write32(HDARegister.corblbase, 0x0100_0000)
        r.c.write8(HDARegister.corbctl, CorbControl.run)
        r.c.write16(HDARegister.corbwp, UInt16((r.wp + 1) % 16))
        r.c.advance(frames: 1)
        #expect(r.c.read8(HDARegister.corbsts) == 1)
        r.c.write8(HDARegister.corbsts, 0xFE)
        #expect(r.c.read8(HDARegister.corbsts) == 1)
        r.c.write8(HDARegister.corbsts, 0x01)
        #expect(r.c.read8(HDARegister.corbsts) == 0)
    }

    @Test("CORBSIZE / RIRBSIZE capability bits are read-only; size and base are fixed while the ring runs")
    func ringSizesWhileRunning() throws {
        let r = try Rings(entries: 16, codecs: [0: TestCodec()], interrupts: false)
        for reg in [HDARegister.corbsize, HDARegister.rirbsize] {
            #expect(r.c.read8(reg) == 0x71)
            r.c.write8(reg, 0x02)   // while running: ignored
            #expect(r.c.read8(reg) == 0x71)
        }
        let corbBase = r.c.read32(HDARegister.corblbase), rirbBase = r.c.read32(HDARegister.rirblbase)
        r.c.write32(HDARegister.corblbase, 0)
        r.c.write32(HDARegister.rirblbase, 0)
        #expect(r.c.read32(HDARegister.corblbase) == corbBase && r.c.read32(HDARegister.rirblbase) == rirbBase)
        r.c.write8(HDARegister.corbctl, 0)
        r.c.write8(HDARegister.rirbctl, 0)
        for reg in [HDARegister.corbsize, HDARegister.rirbsize] {
            r.c.write8(reg, 0x00)
            #expect(r.c.read8(reg) == 0x70, "capability 0111 stays, size 2 entries")
            r.c.write8(reg, 0xF2)
            #expect(r.c.read8(reg) == 0x72)
        }
        // A dword write at CORBCTL sets the size (applied first) and CORBRUN together.
        r.c.write32(HDARegister.corbctl, 0x0001_0002)
        #expect(r.c.read8(HDARegister.corbsize) == 0x71 && r.c.read8(HDARegister.corbctl) == 0x2)
    }

    @Test("Unsolicited responses are dropped while GCTL.UNSOL is clear, even when already polled")
    func unsolDroppedWhenCleared() throws {
        let codec = TestCodec()
        var r = try Rings(entries: 16, codecs: [4: codec], interrupts: false)
        r.c.write32(HDARegister.gctl, GlobalControl.crst | GlobalControl.unsol)
        codec.unsolicited = [0x0400_0000, 0x0800_0000]
        r.c.advance(frames: 1)   // first polled and written
        r.c.write32(HDARegister.gctl, GlobalControl.crst)
        r.c.advance(frames: 5)
        #expect(r.c.read16(HDARegister.rirbwp) == 1)
        let first = try r.response(1)
        #expect(first.0 == 0x0400_0000 && first.1 == 0x14)
        try r.send([verb(codec: 4, node: 0, payload: 0)])
        r.c.advance(frames: 3)
        let ext = try r.response(2).1
        #expect(r.c.read16(HDARegister.rirbwp) == 2 && ext == 4, "solicited responses still flow")
    }
}
