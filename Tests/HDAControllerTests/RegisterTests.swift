import HDAController
import HDAudio
import Testing
import TestSupport

/// What the reference (section 1) says a register is: offset, width, reset value, masks.
struct Expected {
    var name: String
    var offset: UInt32
    var width: Int
    var reset: UInt32
    var writable: UInt32
    var w1c: UInt32 = 0
}

/// The registers of a profile as the reference describes them, written out independently
/// of the controller's own table.
func expectedRegisters(_ p: ControllerProfile) -> [Expected] {
    let engines = p.gcap.totalEngines
    let engineMask: UInt32 = (1 << UInt32(engines)) - 1
    let high: UInt32 = p.gcap.supports64Bit ? 0xFFFF_FFFF : 0
    var list: [Expected] = [
        Expected(name: "GCAP", offset: 0x00, width: 2, reset: UInt32(p.gcap.rawValue), writable: 0),
        Expected(name: "VMIN", offset: 0x02, width: 1, reset: 0x00, writable: 0),
        Expected(name: "VMAJ", offset: 0x03, width: 1, reset: 0x01, writable: 0),
        Expected(name: "OUTPAY", offset: 0x04, width: 2, reset: 0x3C, writable: 0),
        Expected(name: "INPAY", offset: 0x06, width: 2, reset: 0x1D, writable: 0),
        Expected(name: "WAKEEN", offset: 0x0C, width: 2, reset: 0, writable: 0x7FFF),
        Expected(name: "STATESTS", offset: 0x0E, width: 2, reset: 0, writable: 0, w1c: 0x7FFF),
        Expected(name: "OUTSTRMPAY", offset: 0x18, width: 2, reset: 0x30, writable: 0),
        Expected(name: "INSTRMPAY", offset: 0x1A, width: 2, reset: 0x18, writable: 0),
        Expected(name: "INTCTL", offset: 0x20, width: 4, reset: 0, writable: engineMask | 0xC000_0000),
        Expected(name: "INTSTS", offset: 0x24, width: 4, reset: 0, writable: 0),
        Expected(name: "SSYNC", offset: p.ssyncOffset, width: 4, reset: 0, writable: engineMask),
        Expected(name: "CORBLBASE", offset: 0x40, width: 4, reset: 0, writable: 0xFFFF_FF80),
        Expected(name: "CORBUBASE", offset: 0x44, width: 4, reset: 0, writable: high),
        Expected(name: "CORBWP", offset: 0x48, width: 2, reset: 0, writable: 0xFF),
        Expected(name: "RIRBLBASE", offset: 0x50, width: 4, reset: 0, writable: 0xFFFF_FF80),
        Expected(name: "RIRBUBASE", offset: 0x54, width: 4, reset: 0, writable: high),
        Expected(name: "RINTCNT", offset: 0x5A, width: 2, reset: 0, writable: 0xFF),
        Expected(name: "DPLBASE", offset: 0x70, width: 4, reset: 0, writable: 0xFFFF_FF81),
        Expected(name: "DPUBASE", offset: 0x74, width: 4, reset: 0, writable: high),
    ]
    for n in 0..<engines {
        let base = 0x80 + UInt32(n) * 0x20
        let kind = p.layout.kind(of: n)
        let output = kind == .output
        let fifo: UInt32 = output ? 191 : 119   // FMT 0 is 8-bit: ICH6 192 out, 120 in (bidi starts as input)
        list += [
            Expected(name: "SD\(n)STS", offset: base + 3, width: 1, reset: 0, writable: 0, w1c: 0x1C),
            Expected(name: "SD\(n)LPIB", offset: base + 4, width: 4, reset: 0, writable: 0),
            Expected(name: "SD\(n)CBL", offset: base + 8, width: 4, reset: 0, writable: 0xFFFF_FFFF),
            Expected(name: "SD\(n)LVI", offset: base + 0xC, width: 2, reset: 0, writable: 0xFF),
            Expected(name: "SD\(n)FIFOS", offset: base + 0x10, width: 2, reset: fifo, writable: 0),
            Expected(name: "SD\(n)BDPL", offset: base + 0x18, width: 4, reset: 0, writable: 0xFFFF_FF80),
            Expected(name: "SD\(n)BDPU", offset: base + 0x1C, width: 4, reset: 0, writable: high),
        ]
    }
    return list
}

func read(_ c: HDAController, _ offset: UInt32, _ width: Int) -> UInt32 {
    switch width {
    case 1: UInt32(c.read8(offset))
    case 2: UInt32(c.read16(offset))
    default: c.read32(offset)
    }
}

func write(_ c: HDAController, _ offset: UInt32, _ width: Int, _ value: UInt32) {
    switch width {
    case 1: c.write8(offset, UInt8(truncatingIfNeeded: value))
    case 2: c.write16(offset, UInt16(truncatingIfNeeded: value))
    default: c.write32(offset, value)
    }
}

@Suite("Register file")
struct RegisterFileTests {
    @Test("Every register has the reference's reset value, writable bits and write-1-to-clear bits", arguments: profileNames)
    func resetValuesAndMasks(name: String) {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        c.bringUp()
        for r in expectedRegisters(p) {
            let widthMask: UInt32 = r.width == 4 ? 0xFFFF_FFFF : (1 << UInt32(8 * r.width)) - 1
            #expect(read(c, r.offset, r.width) == r.reset, "\(r.name) reset value")
            write(c, r.offset, r.width, 0xFFFF_FFFF)
            #expect(read(c, r.offset, r.width) == (r.reset & ~r.writable & ~r.w1c | r.writable) & widthMask,
                    "\(r.name) after writing ones")
            write(c, r.offset, r.width, 0)
            #expect(read(c, r.offset, r.width) == r.reset & ~r.writable, "\(r.name) after writing zeros")
        }
        #expect(c.checkInvariants() == [])
    }

    @Test("The register table agrees with the reference on every register it shares", arguments: profileNames)
    func tableMatchesReference(name: String) {
        let p = profile(name)
        let table = Dictionary(uniqueKeysWithValues: HDAController.registers(of: p).map { ($0.name, $0) })
        for r in expectedRegisters(p) {
            let t = table[r.name]
            #expect(t?.offset == r.offset && t?.width == r.width && t?.resetValue == r.reset, "\(r.name)")
            #expect(t?.writableMask == r.writable && t?.writeOneToClearMask == r.w1c, "\(r.name) masks")
        }
        #expect(table["WALCLKA"]?.aliasOf == "WALCLK")
        #expect(table["SD0LPIBA"]?.offset == 0x2084)
    }

    @Test("SDnCTL: SRST, RUN, IOCE, FEIE, DEIE, TP and STRM writable; STRIPE per SDO lines; DIR on bidirectional only",
          arguments: profileNames)
    func streamControlMask(name: String) {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        c.bringUp()
        for n in 0..<p.gcap.totalEngines {
            let kind = p.layout.kind(of: n)
            // Everything but SRST and RUN (those start handshakes).
            c.write32(c.sd(n, HDARegister.SD.ctl), 0x00FF_FFFC)
            var expected: UInt32 = 0x1C | 1 << 18 | 0xF0_0000
            if kind != .input && p.sdoLines >= 2 { expected |= 1 << 16 }
            if kind != .input && p.sdoLines >= 4 { expected |= 1 << 17 }
            if kind == .bidirectional { expected |= 1 << 19 }
            #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) & 0xFF_FFFF == expected, "SD\(n)CTL (\(kind))")
            c.write32(c.sd(n, HDARegister.SD.ctl), 0)
            #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) == 0)
        }
    }

    @Test("SDnFMT keeps every bit but the reserved bit 7")
    func formatMask() {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.bringUp()
        c.write16(c.sd(4, HDARegister.SD.fmt), 0xFFFF)
        #expect(c.read16(c.sd(4, HDARegister.SD.fmt)) == 0xFF7F)
    }

    @Test("Byte, word and dword reads assemble neighbouring registers little-endian")
    func mixedWidthReads() {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.bringUp()
        #expect(c.read32(0x00) == 0x4401 | 0x00 << 16 | 0x01 << 24)
        #expect(c.read16(0x02) == 0x0100)
        #expect(c.read8(0x03) == 0x01)
        #expect(c.read8(0x01) == 0x44)
        #expect(c.read32(0x04) == 0x3C | 0x1D << 16)
        #expect(c.read16(0x01) == 0x0044)   // unaligned: GCAP high byte, VMIN
        // Unimplemented offsets read 0 and ignore writes.
        c.write32(0x6C, 0xFFFF_FFFF)   // between ICS and DPLBASE
        #expect(c.read32(0x6C) == 0)
        #expect(c.read32(0x1000) == 0)
        #expect(c.read32(0xFFFF_FFFE) == 0)
        c.write32(0xFFFF_FFFE, 0xFFFF_FFFF)
    }

    @Test("A byte write at SDnCTL + 3 reaches SDnSTS; a dword write at SDnCTL writes CTL and STS together")
    func statusThroughControl() {
        let memory = GuestMemory(pages: 4)
        let c = HDAController(memory: memory)
        c.bringUp()
        let n = 4
        // RUN with LVI = 0 is a descriptor error: DESE set.
        c.write32(c.sd(n, HDARegister.SD.ctl), StreamControl.run)
        #expect(c.read8(c.sd(n, HDARegister.SD.sts)) & 0x10 != 0)
        #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) >> 24 == 0x10)
        c.write8(c.sd(n, HDARegister.SD.sts), 0x10)   // write 1 to clear
        #expect(c.read8(c.sd(n, HDARegister.SD.sts)) == 0)
        // Again, then clear with a dword write that also sets a CTL field.
        c.write32(c.sd(n, HDARegister.SD.ctl), StreamControl.run)
        #expect(c.read8(c.sd(n, HDARegister.SD.sts)) == 0x10)
        c.write32(c.sd(n, HDARegister.SD.ctl), 0x10 << 24 | 0x30_0000)
        #expect(c.read8(c.sd(n, HDARegister.SD.sts)) == 0)
        #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) == 0x30_0000)
        // A word write at CTL + 2 reaches STRM and STS.
        c.write32(c.sd(n, HDARegister.SD.ctl), StreamControl.run)
        c.write16(c.sd(n, 2), 0x1050)
        #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) == 0x50_0000)
        #expect(c.checkInvariants() == [])
    }

    @Test("Writing 0 to a write-1-to-clear bit keeps it; writing 1 clears only that bit")
    func writeOneToClear() {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.attach(TestCodec(), at: 0)
        c.attach(TestCodec(), at: 2)
        c.bringUp()
        #expect(c.read16(HDARegister.statests) == 0b101)
        c.write16(HDARegister.statests, 0)
        #expect(c.read16(HDARegister.statests) == 0b101)
        c.write16(HDARegister.statests, 0b100)
        #expect(c.read16(HDARegister.statests) == 0b001)
        c.write8(HDARegister.statests, 0xFF)
        #expect(c.read16(HDARegister.statests) == 0)
    }

    @Test("The alias page mirrors WALCLK and every SDnLPIB, read-only", arguments: profileNames)
    func aliasPage(name: String) {
        let c = HDAController(profile: profile(name), memory: GuestMemory(pages: 4))
        c.bringUp()
        c.advance(frames: 1234)
        #expect(c.read32(0x2030) == c.read32(HDARegister.walclk))
        #expect(c.read32(0x2030) == (1234 + 25) * 500)
        c.write32(0x2030, 0)
        #expect(c.read32(0x2030) == (1234 + 25) * 500)
        for n in 0..<c.profile.gcap.totalEngines {
            #expect(HDARegister.lpibAlias(n) == 0x2084 + UInt32(n) * 0x20)
            #expect(c.read32(HDARegister.lpibAlias(n)) == c.read32(c.sd(n, HDARegister.SD.lpib)))
        }
    }

    @Test("WALCLK counts 500 per frame, wraps at 2^32 and is cleared by controller reset")
    func wallClock() {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.advance(frames: 100)
        #expect(c.read32(HDARegister.walclk) == 0, "held at 0 in reset")
        c.bringUp()
        let start = c.read32(HDARegister.walclk)
        #expect(start == 25 * 500, "counts from CRST exit: the 25 codec-wake frames have passed")
        let frames: UInt64 = (1 << 32) / 500 + 7
        c.advance(frames: frames)
        #expect(c.read32(HDARegister.walclk) == UInt32(truncatingIfNeeded: UInt64(start) + frames * 500))
        c.write32(HDARegister.gctl, 0)
        #expect(c.read32(HDARegister.walclk) == 0)
    }

    @Test("SSYNC sits at the profile's offset", arguments: profileNames)
    func ssyncOffset(name: String) {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        c.bringUp()
        c.write32(p.ssyncOffset, 0b11)
        #expect(c.read32(p.ssyncOffset) == 0b11)
        let other: UInt32 = p.ssyncOffset == 0x34 ? 0x38 : 0x34
        #expect(c.read32(other) == 0)
        #expect(p.ssyncOffset == (["ich6", "ich9"].contains(name) ? 0x34 : 0x38))
    }

    @Test("GCTL.FCNTRL: a flush completes by clearing FCNTRL and setting GSTS.FSTS (write 1 to clear)")
    func flushSetsFSTS() throws {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.bringUp()
        c.write32(HDARegister.gctl, GlobalControl.crst | GlobalControl.fcntrl)
        c.advance(frames: 1)
        #expect(c.read32(HDARegister.gctl) & GlobalControl.fcntrl == 0)
        #expect(c.read16(HDARegister.gsts) == 0x2)
        c.write16(HDARegister.gsts, 0x2)
        #expect(c.read16(HDARegister.gsts) == 0)
    }


    @Test("SDnSTS write-1-to-clear by word at CTL+2, dword at CTL+1 and dword at CTL+3 leaves CTL and LPIB alone")
    func stsOddOffsets() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [128, 128], iocs: [true, true], tag: 7, control: StreamControl.ioce)
        c.run(4)
        let ctl = c.read32(c.sd(4, HDARegister.SD.ctl)) & 0xFF_FFFF
        let bcis = UInt32(StreamStatus.bufferCompletion.rawValue)
        for way in 0..<3 {
            c.advance(frames: 32)
            #expect(c.status(4).contains(.bufferCompletion), "way \(way)")
            let lpib = c.lpib(4)
            switch way {
            case 0: c.write16(c.sd(4, 2), UInt16(ctl >> 16) | UInt16(bcis) << 8)
            case 1: c.write32(c.sd(4, 1), (ctl >> 8) | bcis << 16 | 0xFF00_0000)
            default: c.write32(c.sd(4, HDARegister.SD.sts), bcis | 0xFFFF_FF00)
            }
            #expect(!c.status(4).contains(.bufferCompletion) && c.status(4).contains(.fifoReady), "way \(way)")
            #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & 0xFF_FFFF == ctl && c.lpib(4) == lpib, "way \(way)")
        }
    }

    @Test("CBL, LVI, FMT and BDPL writes are ignored while RUN reads 1, also when the FIFO never became ready")
    func lockFollowsRunBit() throws {
        let c = HDAController(memory: GuestMemory(pages: 64), faults: FaultInjection(fifoNeverReady: [4]))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 1)
        c.run(4)
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.run != 0)
        for (reg, width) in [(HDARegister.SD.cbl, 4), (HDARegister.SD.lvi, 2), (HDARegister.SD.fmt, 2), (HDARegister.SD.bdpl, 4)] {
            let before = c.read32(c.sd(4, reg))
            if width == 4 { c.write32(c.sd(4, reg), 0x80) } else { c.write16(c.sd(4, reg), 0x11) }
            #expect(c.read32(c.sd(4, reg)) == before, "register +\(reg)")
        }
    }

    @Test("STRIPE is read-only 0 on input engines and on a bidirectional engine it only applies when DIR is output")
    func stripeOnInput() throws {
        let p = ControllerProfile.bidirectional4SDO
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        let codec = TestCodec(transmitTags: [4])
        c.attach(codec, at: 1)
        c.bringUp()
        let input = p.layout.indices(of: .input).lowerBound
        c.write32(c.sd(input, HDARegister.SD.ctl), 0x3 << 16)
        #expect(c.read32(c.sd(input, HDARegister.SD.ctl)) & (0x3 << 16) == 0)
        let bidi = p.layout.indices(of: .bidirectional).lowerBound
        _ = try programStream(c, descriptor: bidi, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [512, 512], tag: 4, control: 0x2 << 16)   // 4 lines, DIR = input
        c.run(bidi)
        c.advance(frames: 20)
        #expect(c.sdoBitsCarried.allSatisfy { $0 == 0 } && codec.sent[4, default: []].count == 80)
        #expect(c.sdiBitsCarried[1] == 20 * 32)
    }

    @Test("Reserved and read-only bits: LVI 15:8, FIFOW 15:3, FIFOS, INTSTS, WALCLK, LPIB, SSYNC beyond the engines, STS bit 5 and 7:6")
    func reservedBits() throws {
        let (c, _) = try controllerWithStream()
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
        c.write8(c.sd(4, HDARegister.SD.sts), 0xFF)
        #expect(c.read8(c.sd(4, HDARegister.SD.sts)) == 0)
        c.write16(c.sd(4, HDARegister.SD.lvi), 1)
        c.run(4)
        c.write8(c.sd(4, HDARegister.SD.sts), 0xFF)   // FIFORDY is read-only
        #expect(c.status(4).contains(.fifoReady))
    }

    @Test("Accesses at the edges of the MMIO space read 0 and change nothing, never trap")
    func edgesOfMmio() throws {
        let (c, _) = try controllerWithStream()
        for offset: UInt32 in [0xFFFF_FFFF, 0xFFFF_FFFE, 0xFFFF_FFFC, 0x2000 + 0x80 + 8 * 0x20, 0x1FFF, 0x7C] {
            c.write32(offset, 0xFFFF_FFFF)
            c.write16(offset, 0xFFFF)
            c.write8(offset, 0xFF)
            #expect(c.read32(offset) == 0 && c.read16(offset) == 0 && c.read8(offset) == 0, "offset \(offset)")
        }
        // An access straddling the last implemented byte gets only the implemented part.
        let last = HDARegister.lpibAlias(7) + 3
        _ = c.read32(last)
        #expect(c.checkInvariants() == [])
    }

    @Test("A word write at GCTL + 1 sets UNSOL without touching CRST; a byte at INTCTL + 3 sets only CIE and GIE")
    func partialWrites() throws {
        let (c, _) = try controllerWithStream()
        c.write16(HDARegister.gctl + 1, 0x0001)
        #expect(c.read32(HDARegister.gctl) == GlobalControl.crst | GlobalControl.unsol)
        c.write32(HDARegister.intctl, 0)
        c.write8(HDARegister.intctl + 3, 0xFF)
        #expect(c.read32(HDARegister.intctl) == InterruptBits.global | InterruptBits.controller)
    }
}

@Suite("Profiles")
struct ProfileTests {
    @Test("Profiles are selectable by name and carry the reference's GCAP and PCI ids")
    func named() {
        #expect(ControllerProfile.default.name == "ich6")
        #expect(ControllerProfile.named("ich6")?.gcap.rawValue == 0x4401)
        #expect(ControllerProfile.named("ich6")?.pciDevice == 0x2668)
        #expect(ControllerProfile.named("ICH9")?.pciDevice == 0x293E)
        let skl = ControllerProfile.named("skylake-pch")
        #expect(skl?.gcap.rawValue == 0x9701 && skl?.pciDevice == 0x9D70)
        #expect(skl?.gcap.outputEngines == 9 && skl?.gcap.inputEngines == 7)
        let bidi = ControllerProfile.all.first { $0.gcap.bidirectionalEngines > 0 }
        #expect(bidi?.sdoLines == 4)
        #expect(ControllerProfile.named("nonesuch") == nil)
        #expect(Set(ControllerProfile.all.map(\.name)).count == ControllerProfile.all.count)
    }
}
