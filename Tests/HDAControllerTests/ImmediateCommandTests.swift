import HDAController
import HDAudio
import Testing
import TestSupport

@Suite("Immediate Command interface (ICOI, IRII, ICS)")
struct ImmediateCommandTests {
    @Test("A verb written to ICOI with ICB = 1 is answered in IRII two frames later, with IRV set, ICB cleared and the codec's address")
    func verbAndResponse() {
        let codec = TestCodec()
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.attach(codec, at: 2)
        c.bringUp()
        #expect(c.read16(HDARegister.ics) == ImmediateCommandStatus.version)
        let verb: UInt32 = 2 << 28 | 0x01 << 20 | 0xF00 << 8 | 0x04
        c.write32(HDARegister.icoi, verb)
        c.write16(HDARegister.ics, ImmediateCommandStatus.busy)
        #expect(c.read16(HDARegister.ics) & ImmediateCommandStatus.busy != 0)
        c.advance(frames: 1)
        #expect(codec.verbs == [verb], "the verb leaves in the next frame")
        #expect(c.read16(HDARegister.ics) & ImmediateCommandStatus.resultValid == 0, "the response comes a frame later")
        c.advance(frames: 1)
        let ics = c.read16(HDARegister.ics)
        #expect(ics & ImmediateCommandStatus.busy == 0)
        #expect(ics & ImmediateCommandStatus.resultValid != 0)
        #expect(ics >> ImmediateCommandStatus.responseAddressShift & 0xF == 2)
        #expect(c.read32(HDARegister.irii) == verb ^ 0xABCD_0000)
        // IRV is write-1-to-clear; ICB cannot be cleared by software; IRII is read-only.
        c.write16(HDARegister.ics, ImmediateCommandStatus.resultValid)
        #expect(c.read16(HDARegister.ics) & ImmediateCommandStatus.resultValid == 0)
        c.write32(HDARegister.irii, 0)
        #expect(c.read32(HDARegister.irii) == verb ^ 0xABCD_0000)
    }

    @Test("A verb no codec answers leaves ICB at 1 and IRV at 0; a second ICB write while busy sends nothing")
    func unanswered() {
        let codec = TestCodec()
        codec.answers = false
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.attach(codec, at: 0)
        c.bringUp()
        c.write32(HDARegister.icoi, 0x000F_0000)
        c.write16(HDARegister.ics, ImmediateCommandStatus.busy)
        c.advance(frames: 10)
        c.write16(HDARegister.ics, ImmediateCommandStatus.busy)
        c.advance(frames: 10)
        #expect(codec.verbs.count == 1)
        #expect(c.read16(HDARegister.ics) & (ImmediateCommandStatus.busy | ImmediateCommandStatus.resultValid)
                == ImmediateCommandStatus.busy)
    }

    @Test("Controller reset clears ICS, ICOI and IRII")
    func reset() {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.attach(TestCodec(), at: 0)
        c.bringUp()
        c.write32(HDARegister.icoi, 0x000F_0000)
        c.write16(HDARegister.ics, ImmediateCommandStatus.busy)
        c.advance(frames: 2)
        #expect(c.read32(HDARegister.irii) != 0)
        c.write32(HDARegister.gctl, 0)
        c.bringUp()
        #expect(c.read32(HDARegister.icoi) == 0)
        #expect(c.read32(HDARegister.irii) == 0)
        #expect(c.read16(HDARegister.ics) == ImmediateCommandStatus.version)
    }
}

@Suite("Mapped guest memory and relaxed buffer alignment")
struct MappedMemoryTests {
    @Test("Mapped regions are the only RAM: accesses inside one region work, holes and straddles are notRAM")
    func mappedRegions() throws {
        let a = UnsafeMutableRawPointer.allocate(byteCount: 0x2000, alignment: 4096)
        let b = UnsafeMutableRawPointer.allocate(byteCount: 0x1000, alignment: 4096)
        defer { a.deallocate(); b.deallocate() }
        let m = GuestMemory(mapped: [MappedRAMRegion(start: GuestAddress(0), size: 0x2000, host: a),
                                     MappedRAMRegion(start: GuestAddress(0x2000), size: 0x1000, host: b)])
        try m.writeUInt32(GuestAddress(0x1FFC), 0x1122_3344)
        #expect(a.load(fromByteOffset: 0x1FFC, as: UInt32.self) == 0x1122_3344)
        try m.writeUInt32(GuestAddress(0x2000), 7)
        #expect(b.load(as: UInt32.self) == 7)
        #expect(!m.isRAM(GuestAddress(0x1FFE), length: 4), "an access straddling two regions is not RAM")
        #expect(!m.isRAM(GuestAddress(0x3000), length: 1))
        #expect(throws: GuestMemoryError.notRAM(GuestAddress(0x3000))) { try m.readUInt32(GuestAddress(0x3000)) }
        m.remap([MappedRAMRegion(start: GuestAddress(0x10000), size: 0x1000, host: b)])
        #expect(!m.isRAM(GuestAddress(0), length: 4))
        #expect(try m.readUInt32(GuestAddress(0x10000)) == 7)
    }

    @Test("A buffer 4 bytes past a 128-byte boundary is a descriptor error by default and runs with the relaxed alignment")
    func misalignedBuffer() throws {
        for relaxed in [false, true] {
            let c = HDAController(memory: GuestMemory(pages: 8))
            if relaxed { c.bufferAlignment = HDAController.relaxedBufferAlignment }
            c.bringUp()
            let pages = try c.memory.allocate(pages: 2, contiguous: true)
            let bdl = pages[0], buffer = pages[1]
            // Linux's layout: one 4-byte entry, then the period starting 4 bytes later.
            try c.memory.writeUInt64(bdl, buffer.rawValue)
            try c.memory.writeUInt32(bdl.adding(8)!, 4)
            try c.memory.writeUInt64(bdl.adding(16)!, buffer.rawValue + 4)
            try c.memory.writeUInt32(bdl.adding(24)!, 1024)
            let sd = HDARegister.streamDescriptor(4)
            c.write32(sd + HDARegister.SD.bdpl, bdl.low32)
            c.write32(sd + HDARegister.SD.cbl, 1028)
            c.write16(sd + HDARegister.SD.lvi, 1)
            c.write16(sd + HDARegister.SD.fmt, 0x0011)
            c.write32(sd, 1 << 20 | 0x2)   // tag 1, RUN
            c.advance(frames: 10)
            let sts = c.read8(sd + 3)
            #expect((sts & UInt8(StreamStatus.descriptorError.rawValue) != 0) == !relaxed)
            #expect((c.read32(sd + HDARegister.SD.lpib) == 40) == relaxed, "10 frames of 16-bit stereo moved when relaxed")
        }
    }
}
