import HDAController
import HDAudio
import Testing

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
        let size: UInt8 = entries == 2 ? 0 : entries == 16 ? 1 : 2
        c.write32(HDARegister.corblbase, corb.low32)
        c.write32(HDARegister.corbubase, corb.high32)
        c.write8(HDARegister.corbsize, size)
        c.write16(HDARegister.corbrp, 0x8000)
        #expect(c.read16(HDARegister.corbrp) == 0x8000, "CORBRP reset bit reads back 1")
        c.write16(HDARegister.corbrp, 0)
        #expect(c.read16(HDARegister.corbrp) == 0)
        c.write32(HDARegister.rirblbase, rirb.low32)
        c.write32(HDARegister.rirbubase, rirb.high32)
        c.write8(HDARegister.rirbsize, size)
        c.write16(HDARegister.rirbwp, 0x8000)
        c.write16(HDARegister.rintcnt, rintcnt)
        c.write8(HDARegister.rirbctl, interrupts ? 0x7 : 0x2)
        c.write8(HDARegister.corbctl, 0x2)
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
        r.c._checkInvariants()
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
        r.c.write8(HDARegister.rirbctl, 0x4)   // DMA off, overrun interrupt on
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
        r.c.write8(HDARegister.corbctl, 0x3)
        try? r.send([])
        r.c.write16(HDARegister.corbwp, 1)
        r.c.advance(frames: 1)
        #expect(r.c.read8(HDARegister.corbsts) == 1)
        #expect(r.c.read8(HDARegister.corbctl) & 0x2 == 0)
        #expect(r.c.interruptAsserted)
    }
}
