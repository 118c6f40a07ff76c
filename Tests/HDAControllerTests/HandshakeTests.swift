import HDAController
import HDAudio
import Testing
import TestSupport

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
        #expect(c.checkInvariants() == [])
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
        #expect(c.checkInvariants() == [])
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
            c.write32(c.sd(n, HDARegister.SD.ctl), 0x50_0004)   // tag 5, IOCE
            c.write8(c.sd(n, HDARegister.SD.ctl), 0x05)         // SRST
            #expect(c.read8(c.sd(n, HDARegister.SD.ctl)) & 1 == 0, "SD\(n) not yet latched")
            // The latch is an event: a poll may sleep until it (`changesOnlyAtEvents`).
            #expect(c.nextEventFrame == c.frame + latency)
            c.advance(frames: latency - 1)
            #expect(c.read8(c.sd(n, HDARegister.SD.ctl)) & 1 == 0)
            c.advance(frames: 1)
            #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) == 1, "SD\(n) in reset: only SRST")
            #expect(c.read32(c.sd(n, HDARegister.SD.cbl)) == 0)
            #expect(c.read16(c.sd(n, HDARegister.SD.lvi)) == 0)
            #expect(c.read16(c.sd(n, HDARegister.SD.fmt)) == 0)
            #expect(c.read32(c.sd(n, HDARegister.SD.bdpl)) == 0)
            // Writes are ignored while held in reset.
            c.write32(c.sd(n, HDARegister.SD.cbl), 0x40)
            #expect(c.read32(c.sd(n, HDARegister.SD.cbl)) == 0)
            c.write8(c.sd(n, HDARegister.SD.ctl), 0)
            #expect(c.read8(c.sd(n, HDARegister.SD.ctl)) & 1 == 1, "SD\(n) not yet cleared")
            #expect(c.nextEventFrame == c.frame + latency)
            c.advance(frames: latency - 1)
            #expect(c.read8(c.sd(n, HDARegister.SD.ctl)) & 1 == 1)
            c.advance(frames: 1)
            #expect(c.read8(c.sd(n, HDARegister.SD.ctl)) & 1 == 0)
            c.write32(c.sd(n, HDARegister.SD.cbl), 0x40)
            #expect(c.read32(c.sd(n, HDARegister.SD.cbl)) == 0x40)
            #expect(c.checkInvariants() == [])
        }
    }

    @Test("Only SDnCTL's three bytes are named as changing at events alone (a poll may skip reads of them until the next event)",
          arguments: profileNames)
    func eventOnlyBytes(name: String) {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 4))
        var named: [UInt32] = []
        for offset in UInt32(0)..<0x400 where c.changesOnlyAtEvents(byte: offset) { named.append(offset) }
        let expected = (0..<p.gcap.totalEngines).flatMap { n in (0..<3).map { c.sd(n, HDARegister.SD.ctl) + UInt32($0) } }
        #expect(named == expected)
    }

    @Test("Fault: SRST never latches, and never clears, on the chosen descriptor only")
    func streamResetFaults() {
        let faults = FaultInjection(srstNeverLatches: [1], srstNeverClears: [2])
        let c = HDAController(memory: GuestMemory(pages: 4), faults: faults)
        c.bringUp()
        for n in 0..<3 { c.write8(c.sd(n, HDARegister.SD.ctl), 1) }
        c.advance(frames: 1000)
        #expect(c.read8(c.sd(0, HDARegister.SD.ctl)) & 1 == 1)
        #expect(c.read8(c.sd(1, HDARegister.SD.ctl)) & 1 == 0, "never latches")
        #expect(c.read8(c.sd(2, HDARegister.SD.ctl)) & 1 == 1)
        for n in 0..<3 { c.write8(c.sd(n, HDARegister.SD.ctl), 0) }
        c.advance(frames: 1000)
        #expect(c.read8(c.sd(0, HDARegister.SD.ctl)) & 1 == 0)
        #expect(c.read8(c.sd(1, HDARegister.SD.ctl)) & 1 == 0)
        #expect(c.read8(c.sd(2, HDARegister.SD.ctl)) & 1 == 1, "never clears")
        #expect(c.checkInvariants() == [])
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
                if kind == .bidirectional { c.write32(c.sd(n, HDARegister.SD.ctl), directionOut ? StreamControl.dir : 0) }
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

    @Test("Codecs answer no verb before the 25-frame codec wake that follows CRST exit")
    func noVerbBeforeCodecWake() throws {
        let codec = TestCodec()
        let c = HDAController(memory: GuestMemory(pages: 16))
        c.attach(codec, at: 0)
        c.write32(HDARegister.gctl, GlobalControl.crst)
        c.advance(frames: c.profile.crstExitFrames)
        #expect(c.read32(HDARegister.gctl) & GlobalControl.crst != 0 && c.read16(HDARegister.statests) == 0)
        let (corb, _) = try setUpRings(c)
        try c.memory.writeUInt32(corb.adding(4)!, verb(codec: 0, node: 0, payload: 0xF0000))
        c.write16(HDARegister.corbwp, 1)
        c.advance(frames: 3)
        #expect(c.read16(HDARegister.statests) == 0, "the codec is still waking")
        #expect(codec.verbs.isEmpty && c.read16(HDARegister.rirbwp) == 0, "a waking codec does not answer")
    }


    @Test("CRST = 0 while engines run stops them, zeroes LPIB, WALCLK and the rings; nothing moves after")
    func crstWhileRunning() throws {
        let out = TestCodec(), inp = TestCodec(transmitTags: [2])
        var r = try Rings(entries: 16, codecs: [0: out, 1: inp], interrupts: false)
        let c = r.c
        let dpl = try c.memory.allocate(pages: 1, contiguous: true)[0]
        c.write32(HDARegister.dplbase, dpl.low32 | 1)
        c.write32(HDARegister.dpubase, dpl.high32)
        let f = StreamFormat(rate: 44100, bits: 16, channels: 2)
        _ = try programStream(c, descriptor: 4, format: f, lengths: [1024, 1024], tag: 1)
        _ = try programStream(c, descriptor: 0, format: f, lengths: [1024, 1024], tag: 2)
        c.run(4)
        c.run(0)
        try r.send([verb(codec: 0, node: 0, payload: 1)])
        c.advance(frames: 100)
        let moved = c.totalBytesMoved
        #expect(moved > 0 && c.lpib(4) != 0)
        let dplBefore = try c.memory.read(dpl, count: 64)
        c.write32(HDARegister.gctl, 0)
        #expect(!c.isMoving(descriptor: 4) && !c.isMoving(descriptor: 0))
        #expect(c.lpib(4) == 0 && c.lpib(0) == 0 && c.read32(HDARegister.walclk) == 0)
        #expect(c.read16(HDARegister.corbrp) == 0 && c.read16(HDARegister.rirbwp) == 0 && c.read32(HDARegister.dplbase) == 0)
        c.advance(frames: 50)
        #expect(c.read32(HDARegister.walclk) == 0, "WALCLK does not count in reset")
        c.bringUp()
        c.advance(frames: 100)
        #expect(c.totalBytesMoved == moved)
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.run == 0 && !c.status(4).contains(.fifoReady))
        #expect(try c.memory.read(dpl, count: 64) == dplBefore, "the position buffer is no longer written")
        #expect(c.read32(HDARegister.walclk) == UInt32(100 + LinkTiming.codecWakeFrames) * 500)
        #expect(c.checkInvariants() == [])
    }

    @Test("SDnFIFOS follows DIR: a DIR written while running is reflected once the engine stops")
    func fifosFollowsDirAfterStop() throws {
        let p = ControllerProfile.bidirectional4SDO
        let n = p.layout.indices(of: .bidirectional).lowerBound
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        c.bringUp()
        let s = try programStream(c, descriptor: n, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                                  lengths: [512, 512], tag: 3)
        let inputFIFOS = p.fifoRule.fifos(for: s.converter, output: false)
        let outputFIFOS = p.fifoRule.fifos(for: s.converter, output: true)
        #expect(inputFIFOS != outputFIFOS)
        #expect(c.read16(c.sd(n, HDARegister.SD.fifos)) == inputFIFOS)
        c.run(n)
        c.write32(c.sd(n, HDARegister.SD.ctl), c.read32(c.sd(n, HDARegister.SD.ctl)) & 0xFF_FFFF | StreamControl.dir)
        c.stop(n)
        #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) & StreamControl.dir != 0)
        #expect(c.read16(c.sd(n, HDARegister.SD.fifos)) == outputFIFOS)
    }

    @Test("While CRST = 0 only GCTL listens: every other write is ignored")
    func writesIgnoredInReset() throws {
        let c = HDAController(memory: GuestMemory(pages: 4))
        for offset in [HDARegister.intctl, HDARegister.dplbase, c.sd(4, HDARegister.SD.cbl), c.sd(4, HDARegister.SD.ctl), HDARegister.wakeen] {
            c.write32(offset, 0xFFFF_FFFE)
            #expect(c.read32(offset) & 0xFF_FFFF == 0, "offset \(offset)")
        }
        c.write32(HDARegister.gctl, GlobalControl.crst)
        c.advance(frames: c.profile.crstExitFrames)
        #expect(c.read32(HDARegister.gctl) & GlobalControl.crst != 0)
        c.write32(HDARegister.intctl, InterruptBits.global)
        #expect(c.read32(HDARegister.intctl) == InterruptBits.global)
    }
}
