import HDAController
import HDAudio
import Testing

// Independent review of the virtual controller against the reference (section 1) and
// issues 2 and 3. All of these are passing probes.

@Suite("Review: virtual controller against the reference")
struct ControllerReviewTests {
    /// A controller brought up, with one stereo 16-bit output stream programmed on descriptor 4.
    func system(pages: Int = 64) throws -> (HDAController, ProgrammedStream) {
        let c = HDAController(memory: GuestMemory(pages: pages))
        c.bringUp()
        let s = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                                  lengths: [512, 512], iocs: [true, true], tag: 1, control: StreamControl.deie)
        c.write32(HDARegister.intctl, InterruptBits.global | 1 << 4)
        return (c, s)
    }

    func setEntry(_ c: HDAController, _ s: ProgrammedStream, _ i: Int, address: UInt64, length: UInt32) throws {
        try c.memory.write(s.bdl.adding(UInt64(16 * i))!,
                           bytes: BDLEntry(address: address, length: length, interruptOnCompletion: true).bytes)
    }

    @Test("A buffer or BDL address whose range wraps past 2^64 is a descriptor error, never a host access",
          arguments: ["buffer", "bdl", "bufferTopOfSpace"])
    func addressWrap(_ which: String) throws {
        let (c, s) = try system()
        switch which {
        case "buffer": try setEntry(c, s, 1, address: UInt64.max - 127, length: 512)
        case "bufferTopOfSpace": try setEntry(c, s, 0, address: 0xFFFF_FFFF_FFFF_FF00, length: 0x200)
        default:
            c.write32(c.sd(4, HDARegister.SD.bdpl), 0xFFFF_FF80)
            c.write32(c.sd(4, HDARegister.SD.bdpu), 0xFFFF_FFFF)
        }
        c.run(4)
        #expect(c.status(4).contains(.descriptorError))
        #expect(c.read32(c.sd(4, 0)) & StreamControl.run == 0 && c.interruptAsserted)
        c.advance(frames: 300)
        #expect(c.statistics(ofDescriptor: 4).bytesMoved == 0 && c.lpib(4) == 0)
        c._checkInvariants()
    }

    @Test("Entries past LVI are never fetched: garbage after the last valid entry does not matter")
    func boundedByLvi() throws {
        let (c, s) = try system()
        try setEntry(c, s, 2, address: 0, length: 0)          // would be a descriptor error if fetched
        try setEntry(c, s, 3, address: UInt64.max, length: 1)
        c.run(4)
        #expect(!c.status(4).contains(.descriptorError))
        c.advance(frames: 256 * 3)
        #expect(c.statistics(ofDescriptor: 4).bytesMoved == 256 * 3 * 4)
        #expect(c.statistics(ofDescriptor: 4).completions == 6)
        c._checkInvariants()
    }

    @Test("A 32-bit write that clears old status and sets RUN on a bad BDL keeps the new DESE")
    func dwordWriteKeepsNewDese() throws {
        let (c, s) = try system()
        try setEntry(c, s, 0, address: s.entries[0].address.rawValue, length: 0)
        let ctl = c.read32(c.sd(4, 0)) & 0xFF_FFFF
        c.write32(c.sd(4, 0), ctl | StreamControl.run | UInt32(StreamStatus.interruptCauses.rawValue) << 24)
        #expect(c.status(4).contains(.descriptorError))
        c.write8(c.sd(4, 3), StreamStatus.descriptorError.rawValue)
        #expect(!c.status(4).contains(.descriptorError) && !c.interruptAsserted)
    }

    @Test("Without 64OK every upper address register reads 0, so DMA stays below 4 GiB")
    func no64Bit() throws {
        let gcap = GlobalCapabilities(outputEngines: 1, inputEngines: 1, bidirectionalEngines: 0, sdoLines: 1, supports64Bit: false)
        let profile = ControllerProfile(name: "review-32", summary: "32-bit only", gcap: gcap, pciVendor: 0x8086, pciDevice: 0x1,
                                        revision: 0, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 1, srstFrames: 1)
        let c = HDAController(profile: profile, memory: GuestMemory(pages: 4))
        c.bringUp()
        for offset in [HDARegister.corbubase, HDARegister.rirbubase, HDARegister.dpubase, c.sd(0, HDARegister.SD.bdpu), c.sd(1, HDARegister.SD.bdpu)] {
            c.write32(offset, 0xFFFF_FFFF)
            #expect(c.read32(offset) == 0, "offset \(offset)")
        }
    }

    @Test("Reserved and read-only bits: LVI 15:8, FIFOW 15:3, FIFOS, INTSTS, WALCLK, LPIB, SSYNC beyond the engines, STS bit 5 and 7:6")
    func reservedBits() throws {
        let (c, _) = try system()
        c.write16(c.sd(4, HDARegister.SD.lvi), 0xFFFF)
        #expect(c.read16(c.sd(4, HDARegister.SD.lvi)) == 0x00FF)
        c.write16(c.sd(4, HDARegister.SD.fifow), 0xFFFF)
        #expect(c.read16(c.sd(4, HDARegister.SD.fifow)) == 0x0007)
        let fifos = c.read16(c.sd(4, HDARegister.SD.fifos))
        c.write16(c.sd(4, HDARegister.SD.fifos), 0)
        #expect(c.read16(c.sd(4, HDARegister.SD.fifos)) == fifos)
        for offset in [HDARegister.intsts, HDARegister.walclk, c.sd(4, HDARegister.SD.lpib), HDARegister.lpibAlias(4), HDARegister.walclkAlias] {
            let before = c.read32(offset)
            c.write32(offset, 0xFFFF_FFFF)
            #expect(c.read32(offset) == before, "offset \(offset)")
        }
        c.write32(c.profile.ssyncOffset, 0xFFFF_FFFF)
        #expect(c.read32(c.profile.ssyncOffset) == 0xFF)   // 8 engines
        c.write32(c.profile.ssyncOffset, 0)
        c.write8(c.sd(4, 3), 0xFF)
        #expect(c.read8(c.sd(4, 3)) == 0)
        c.write16(c.sd(4, HDARegister.SD.lvi), 1)
        c.run(4)
        c.write8(c.sd(4, 3), 0xFF)   // FIFORDY is read-only
        #expect(c.status(4).contains(.fifoReady))
    }

    @Test("Accesses at the edges of the MMIO space read 0 and change nothing, never trap")
    func edgesOfMmio() throws {
        let (c, _) = try system()
        for offset: UInt32 in [0xFFFF_FFFF, 0xFFFF_FFFE, 0xFFFF_FFFC, 0x2000 + 0x80 + 8 * 0x20, 0x1FFF, 0x7C] {
            c.write32(offset, 0xFFFF_FFFF)
            c.write16(offset, 0xFFFF)
            c.write8(offset, 0xFF)
            #expect(c.read32(offset) == 0 && c.read16(offset) == 0 && c.read8(offset) == 0, "offset \(offset)")
        }
        // An access straddling the last implemented byte gets only the implemented part.
        let last = HDARegister.lpibAlias(7) + 3
        _ = c.read32(last)
        c._checkInvariants()
    }

    @Test("While CRST = 0 only GCTL listens: every other write is ignored")
    func writesIgnoredInReset() throws {
        let c = HDAController(memory: GuestMemory(pages: 4))
        for offset in [HDARegister.intctl, HDARegister.dplbase, c.sd(4, HDARegister.SD.cbl), c.sd(4, 0), HDARegister.wakeen] {
            c.write32(offset, 0xFFFF_FFFE)
            #expect(c.read32(offset) & 0xFF_FFFF == 0, "offset \(offset)")
        }
        c.write32(HDARegister.gctl, GlobalControl.crst)
        c.advance(frames: c.profile.crstExitFrames)
        #expect(c.read32(HDARegister.gctl) & GlobalControl.crst != 0)
        c.write32(HDARegister.intctl, InterruptBits.global)
        #expect(c.read32(HDARegister.intctl) == InterruptBits.global)
    }

    @Test("The position buffer is written in the last bytes of RAM, but not where it runs past the end of RAM or lies above it")
    func positionBufferAtRamEnd() throws {
        let (c, _) = try system(pages: 16)
        let ramEnd = c.memory.base.rawValue + c.memory.sizeInBytes
        c.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: ramEnd - 128) | 1)   // 8 engines x 8 = 64 bytes: fits
        c.run(4)
        c.advance(frames: 3)
        #expect(c.positionBufferErrors == 0)
        #expect(try c.memory.readUInt32(GuestAddress(ramEnd - 128 + 4 * 8)) == 12)
        c.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: ramEnd) | 1)
        c.advance(frames: 1)
        #expect(c.positionBufferErrors == 1)

        // 30 descriptors x 8 = 240 bytes: at RAM end - 128 the buffer straddles the end of RAM.
        let gcap = GlobalCapabilities(outputEngines: 15, inputEngines: 15, bidirectionalEngines: 0, sdoLines: 1, supports64Bit: true)
        let wide = ControllerProfile(name: "review-30", summary: "30 descriptors", gcap: gcap, pciVendor: 0x8086, pciDevice: 0x2,
                                     revision: 0, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 1, srstFrames: 1)
        let d = HDAController(profile: wide, memory: GuestMemory(pages: 4))
        d.bringUp()
        let end = d.memory.base.rawValue + d.memory.sizeInBytes
        d.write32(HDARegister.dplbase, UInt32(truncatingIfNeeded: end - 128) | 1)
        try d.memory.write(GuestAddress(end - 128), bytes: [UInt8](repeating: 0xAA, count: 128))
        d.advance(frames: 2)
        #expect(d.positionBufferErrors > 0)
        #expect(try d.memory.read(GuestAddress(end - 128), count: 128) == [UInt8](repeating: 0xAA, count: 128))
        d._checkInvariants()
    }

    @Test("A word write at GCTL + 1 sets UNSOL without touching CRST; a byte at INTCTL + 3 sets only CIE and GIE")
    func partialWrites() throws {
        let (c, _) = try system()
        c.write16(HDARegister.gctl + 1, 0x0001)
        #expect(c.read32(HDARegister.gctl) == GlobalControl.crst | GlobalControl.unsol)
        c.write32(HDARegister.intctl, 0)
        c.write8(HDARegister.intctl + 3, 0xFF)
        #expect(c.read32(HDARegister.intctl) == InterruptBits.global | InterruptBits.controller)
    }
}
