import HDAController
import HDAudio
import Testing
import TestSupport

/// The frame (0-based) in which a stream of `format` moves its byte number `byte` (1-based
/// count of bytes done), computed from the vocabulary's cadence by scanning frames.
func frameMoving(byteCount: Int, _ format: StreamFormat) -> UInt64 {
    let cadence = try! LinkCadence(format)
    var k: UInt64 = 0
    while Int(cadence.blocks(before: k + 1)) * format.blockBytes < byteCount { k += 1 }
    return k
}

@Suite("Interrupts, SSYNC, striping, errors")
struct InterruptTests {
    @Test("IOC sets BCIS in the frame that moves the entry's last byte; the interrupt line rises in that frame",
          arguments: ["44100/16/2", "48000/24/2", "32000/16/3", "88200/16/1"])
    func iocTiming(text: String) throws {
        let format = StreamFormat(compact: text)!
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        var changes: [Bool] = []
        c.interruptLineChanged = { changes.append($0) }
        let n = 5
        let s = try programStream(c, descriptor: n, format: format, lengths: [1024, 1000, 1024, 1200],
                                  iocs: [false, true, false, true], tag: 2, control: StreamControl.ioce)
        c.write32(HDARegister.intctl, InterruptBits.global | 1 << UInt32(n))
        let start = c.frame
        c.run(n)
        // IOC entries end at logical bytes 2024 and min(4248, CBL); then again one CBL later.
        let cbl = Int(s.cbl)
        var ends = [2024]
        if 4248 <= cbl { ends.append(4248) }
        ends.append(cbl + 2024)
        for end in ends {
            let expectedFrame = frameMoving(byteCount: end, format)
            let advanced = c.advance(frames: 100_000, stopAtInterrupt: true)
            #expect(c.frame - start == expectedFrame + 1, "\(text): IOC at byte \(end)")
            #expect(advanced > 0)
            #expect(c.status(n).contains(.bufferCompletion))
            #expect(c.read32(HDARegister.intsts) == InterruptBits.global | 1 << UInt32(n))
            #expect(c.interruptAsserted)
            c.write8(c.sd(n, HDARegister.SD.sts), StreamStatus.bufferCompletion.rawValue)
            #expect(c.read32(HDARegister.intsts) == 0, "clearing BCIS clears the stream's INTSTS bit")
            #expect(!c.interruptAsserted)
            #expect(c.checkInvariants() == [])
        }
        #expect(changes == Array(repeating: [true, false], count: ends.count).flatMap { $0 })
    }

    @Test("IOCE, SIE and GIE gate the interrupt; INTSTS shows SIS and GIS, which SIE does not gate")
    func gating() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        for (ioce, sie, gie) in [(false, true, true), (true, false, true), (true, true, false), (true, true, true)] {
            let c = HDAController(memory: GuestMemory(pages: 64))
            c.bringUp()
            _ = try programStream(c, descriptor: 4, format: format, lengths: [256, 256], iocs: [true, true], tag: 1,
                                  control: ioce ? StreamControl.ioce : 0)
            c.write32(HDARegister.intctl, (gie ? InterruptBits.global : 0) | (sie ? 1 << 4 : 0))
            c.run(4)
            c.advance(frames: 64)   // 256 bytes at 4 bytes per frame
            #expect(c.status(4).contains(.bufferCompletion))
            let intsts = c.read32(HDARegister.intsts)
            #expect((intsts & 1 << 4 != 0) == ioce, "SIS follows IOCE")
            #expect((intsts & InterruptBits.global != 0) == ioce, "GIS is the OR of the status bits, whatever SIE says")
            #expect(c.interruptAsserted == (ioce && sie && gie))
        }
    }

    @Test("SSYNC holds engines with FIFORDY = 1; clearing their bits in one write starts them on the same frame",
          arguments: profileNames)
    func ssyncStart(name: String) throws {
        let p = profile(name)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        let codec = TestCodec(transmitTags: [9])
        c.attach(codec, at: 0)
        c.bringUp()
        let out = descriptor(p, .output)!, input = descriptor(p, .input)!
        let f1 = StreamFormat(rate: 44100, bits: 16, channels: 2), f2 = StreamFormat(rate: 44100, bits: 24, channels: 1)
        _ = try programStream(c, descriptor: out, format: f1, lengths: [2048, 2048], tag: 4)
        _ = try programStream(c, descriptor: input, format: f2, lengths: [2048, 2048], tag: 9)
        let bits: UInt32 = 1 << UInt32(out) | 1 << UInt32(input)
        c.write32(p.ssyncOffset, bits)
        c.run(out)
        c.run(input)
        #expect(c.status(out).contains(.fifoReady) && c.status(input).contains(.fifoReady))
        c.advance(frames: 37)
        #expect(c.lpib(out) == 0 && c.lpib(input) == 0 && codec.calls.isEmpty, "held")
        let startFrame = c.frame
        c.write32(p.ssyncOffset, 0)
        c.advance(frames: 1)
        #expect(codec.calls.count == 2)
        #expect(codec.calls.allSatisfy { $0.frame == startFrame }, "both move in the same first frame")
        c.advance(frames: 499)
        #expect(c.lpib(out) == UInt32(blocks(f1, frames: 500) * 4))
        #expect(c.lpib(input) == UInt32(blocks(f2, frames: 500) * 4))
        // Stop: set SSYNC, then clear RUN.
        c.write32(p.ssyncOffset, bits)
        let held = (c.lpib(out), c.lpib(input))
        c.advance(frames: 50)
        #expect((c.lpib(out), c.lpib(input)) == held)
        c.stop(out)
        c.stop(input)
        #expect(c.read32(c.sd(out, HDARegister.SD.ctl)) & StreamControl.run == 0 && !c.status(out).contains(.fifoReady))
        #expect(c.checkInvariants() == [])
    }

    @Test("Striping spreads an output stream's bits evenly over 1, 2 or 4 SDO lines", arguments: [0, 1, 2])
    func striping(stripe: UInt32) throws {
        let p = ControllerProfile.bidirectional4SDO
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        let codec = TestCodec()
        c.attach(codec, at: 0)
        c.bringUp()
        let format = StreamFormat(rate: 96000, bits: 20, channels: 2)
        let n = descriptor(p, .output)!
        let s = try programStream(c, descriptor: n, format: format, lengths: [4096, 4096], tag: 6, control: stripe << 16)
        c.run(n)
        c.advance(frames: 1000)
        let lines = 1 << Int(stripe)
        let bits = blocks(format, frames: 1000) * 40
        #expect(c.sdoBitsCarried == (0..<4).map { $0 < lines ? bits / UInt64(lines) : 0 })
        let logical = try s.logicalBuffer(c.memory)
        let count = Int(blocks(format, frames: 1000)) * 8
        let whole = codec.received[6]! == (0..<count).map { logical[$0 % logical.count] }
        #expect(whole, "the data arrives whole")
    }

    @Test("STRIPE does not stick on a controller with one SDO line")
    func noStripingOnOneLine() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 1, control: 2 << 16)
        #expect(c.read32(c.sd(4, HDARegister.SD.ctl)) & StreamControl.stripeField.mask == 0)
        c.run(4)
        c.advance(frames: 10)
        #expect(c.sdoBitsCarried == [320])
    }

    enum Mistake: String, CaseIterable {
        case bdlNotRAM, bdlInMMIO, bufferNotRAM, bufferInMMIO, bufferUnaligned, bufferRunsPastRAM, lviZero,
             cblNotWholeBlocks, cblTooLarge, cblZero, entryLengthZero, bdlRunsPastRAM, reservedFormat
    }

    @Test("Every descriptor error sets DESE, clears RUN and interrupts when DEIE allows", arguments: Mistake.allCases)
    func descriptorErrors(mistake: Mistake) throws {
        for deie in [false, true] {
            let memory = GuestMemory(pages: 32)
            let c = HDAController(memory: memory)
            c.bringUp()
            let n = 4
            let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
            let s = try programStream(c, descriptor: n, format: format, lengths: [512, 512], tag: 1,
                                      control: deie ? StreamControl.deie : 0)
            c.write32(HDARegister.intctl, InterruptBits.global | 1 << UInt32(n))
            func entry(_ i: Int, address: UInt64? = nil, length: UInt32? = nil) throws {
                let e = s.entries[i]
                try memory.write(s.bdl.adding(UInt64(16 * i))!,
                                 bytes: BDLEntry(address: address ?? e.address.rawValue, length: length ?? e.length,
                                                 interruptOnCompletion: false).bytes)
            }
            let ramEnd = memory.base.rawValue + memory.sizeInBytes
            switch mistake {
            case .bdlNotRAM: c.write32(c.sd(n, HDARegister.SD.bdpl), 0)
            case .bdlInMMIO: c.write32(c.sd(n, HDARegister.SD.bdpl), 0xFED0_0000)
            case .bufferNotRAM: try entry(1, address: 0)
            case .bufferInMMIO: try entry(0, address: 0xFEBF_0000)
            case .bufferUnaligned: try entry(1, address: s.entries[1].address.rawValue + 64)
            case .bufferRunsPastRAM: try entry(1, address: ramEnd - 256)
            case .lviZero: c.write16(c.sd(n, HDARegister.SD.lvi), 0)
            case .cblNotWholeBlocks: c.write32(c.sd(n, HDARegister.SD.cbl), 1022)
            case .cblTooLarge: c.write32(c.sd(n, HDARegister.SD.cbl), 1028)
            case .cblZero: c.write32(c.sd(n, HDARegister.SD.cbl), 0)
            case .entryLengthZero: try entry(1, length: 0)
            case .bdlRunsPastRAM:
                // A BDL in the last page of RAM with LVI = 255 reaches past the end.
                let last = GuestAddress(ramEnd - 4096)
                try memory.write(last, bytes: BDLEntry(address: s.entries[0].address.rawValue, length: 512,
                                                       interruptOnCompletion: false).bytes)
                c.write32(c.sd(n, HDARegister.SD.bdpl), last.low32)
                c.write16(c.sd(n, HDARegister.SD.lvi), 255)
            case .reservedFormat: c.write16(c.sd(n, HDARegister.SD.fmt), 0x0051)
            }
            c.run(n)
            #expect(c.status(n).contains(.descriptorError), "\(mistake)")
            #expect(c.read32(c.sd(n, HDARegister.SD.ctl)) & StreamControl.run == 0, "RUN reads 0")
            #expect(!c.status(n).contains(.fifoReady))
            #expect(c.interruptAsserted == deie, "interrupt only with DEIE")
            c.advance(frames: 100)
            #expect(c.lpib(n) == 0 && c.statistics(ofDescriptor: n).bytesMoved == 0)
            #expect(c.statistics(ofDescriptor: n).descriptorErrors == 1)
            #expect(c.checkInvariants() == [])
        }
    }

    @Test("BDPL's low 7 bits read 0, so a misaligned BDL address cannot be programmed")
    func bdlAlignment() {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.bringUp()
        c.write32(c.sd(4, HDARegister.SD.bdpl), 0x1000_0040)
        #expect(c.read32(c.sd(4, HDARegister.SD.bdpl)) == 0x1000_0000)
    }

    @Test("An injected FIFO error sets FIFOE in the first frame and interrupts when FEIE allows")
    func fifoError() throws {
        let c = HDAController(memory: GuestMemory(pages: 64), faults: FaultInjection(fifoErrors: [4]))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 1, control: StreamControl.feie)
        _ = try programStream(c, descriptor: 5, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 2)
        c.write32(HDARegister.intctl, InterruptBits.global | 0x30)
        c.run(4)
        c.run(5)
        #expect(!c.status(4).contains(.fifoError))
        let advanced = c.advance(frames: 1000, stopAtInterrupt: true)
        #expect(advanced == 1)
        #expect(c.status(4).contains(.fifoError) && !c.status(5).contains(.fifoError))
        #expect(c.interruptAsserted)
        #expect(c.lpib(4) == 4, "the engine keeps running")
    }

    @Test("The position buffer is not written where it is not RAM")
    func positionBufferNotRAM() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        c.write32(HDARegister.dplbase, 0xFED0_0001)
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], tag: 1)
        c.run(4)
        c.advance(frames: 10)
        #expect(c.positionBufferErrors > 0)
        #expect(c.lpib(4) == 40)
    }
    @Test("With stopAtInterrupt, advance stops at every new interrupt cause while the line is already asserted, never at a merged one")
    func stopAtEveryNewCause() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)   // 4 bytes per frame
        func make() throws -> HDAController {
            let c = HDAController(memory: GuestMemory(pages: 64))
            c.bringUp()
            _ = try programStream(c, descriptor: 4, format: format, lengths: [256, 256], iocs: [true, true], tag: 1,
                                  control: StreamControl.ioce)   // IOC every 64 frames
            _ = try programStream(c, descriptor: 5, format: format, lengths: [384, 384], iocs: [true, true], tag: 2,
                                  control: StreamControl.ioce)   // IOC every 96 frames
            c.write32(HDARegister.intctl, InterruptBits.global | 0x30)
            c.run(4)
            c.run(5)
            return c
        }
        // Nothing is ever cleared: after the first IOC the line stays asserted throughout.
        let batched = try make(), stepped = try make()
        let start = batched.frame
        var stops: [UInt64] = []
        while batched.frame - start < 200 {
            _ = batched.advance(frames: 200 - (batched.frame - start), stopAtInterrupt: true)
            stops.append(batched.frame - start)
            #expect(batched.interruptAsserted)
        }
        // Stepping one frame at a time: the frames whose advance raised a new cause.
        var raised: [UInt64] = []
        for _ in 0..<200 {
            let before = stepped.interruptCausesRaised
            _ = stepped.advance(frames: 1, stopAtInterrupt: true)
            if stepped.interruptCausesRaised != before { raised.append(stepped.frame - start) }
        }
        // Engine 4's BCIS at 64; engine 5's at 96 (the line already high); engine 4's at 128
        // and 192 are merged into its still-set BCIS, so the run ends at 200.
        #expect(stops == [64, 96, 200])
        #expect(raised == [64, 96])
        #expect(batched.interruptCausesRaised == stepped.interruptCausesRaised)
        // Clearing engine 4's BCIS alone keeps the line up (engine 5); its next IOC stops again.
        batched.write8(batched.sd(4, HDARegister.SD.sts), StreamStatus.bufferCompletion.rawValue)
        #expect(batched.interruptAsserted)
        _ = batched.advance(frames: 1000, stopAtInterrupt: true)
        #expect(batched.frame - start == 256)
        #expect(batched.checkInvariants() == [])
    }


    @Test("STATESTS clears only the bits written 1; WAKEEN holds bits 14:0 only")
    func statestsW1C() throws {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.attach(TestCodec(), at: 0)
        c.attach(TestCodec(), at: 3)
        c.bringUp()
        #expect(c.read16(HDARegister.statests) == 0x9)
        c.write16(HDARegister.statests, 0xFFF6)
        #expect(c.read16(HDARegister.statests) == 0x9)
        c.write8(HDARegister.statests, 0x1)
        #expect(c.read16(HDARegister.statests) == 0x8)
        c.write16(HDARegister.wakeen, 0xFFFF)
        #expect(c.read16(HDARegister.wakeen) == 0x7FFF)
    }

    @Test("CIS reports an SDIN state change: STATESTS & WAKEEN raises CIS and, with CIE and GIE, the interrupt")
    func stateChangeRaisesCIS() throws {
        let c = HDAController(memory: GuestMemory(pages: 4))
        c.attach(TestCodec(), at: 2)
        c.bringUp()
        c.write32(HDARegister.intctl, InterruptBits.global | InterruptBits.controller)
        #expect(c.read32(HDARegister.intsts) == 0, "WAKEEN clear: no cause")
        c.write16(HDARegister.wakeen, 1 << 2)
        #expect(c.read32(HDARegister.intsts) & InterruptBits.controller != 0)
        #expect(c.interruptAsserted)
        c.write16(HDARegister.statests, 1 << 2)
        #expect(c.read32(HDARegister.intsts) == 0 && !c.interruptAsserted)
    }

    @Test("GIS is the OR of every INTSTS status bit, independent of SIE and CIE (the enables gate only the line)")
    func gisIndependentOfEnables() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        _ = try programStream(c, descriptor: 4, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], iocs: [true, true], tag: 1, control: StreamControl.ioce)
        c.write32(HDARegister.intctl, InterruptBits.global)   // SIE 4 clear
        c.run(4)
        c.advance(frames: 64)
        #expect(c.status(4).contains(.bufferCompletion))
        #expect(c.read32(HDARegister.intsts) == 1 << 4 | InterruptBits.global)
        #expect(!c.interruptAsserted, "SIE clear: no interrupt")
    }

    @Test("SIS follows the enabled stream causes and INTSTS is derived: clearing BCIS clears SIS and GIS at once")
    func intstsDerived() throws {
        let c = HDAController(memory: GuestMemory(pages: 64))
        c.bringUp()
        _ = try programStream(c, descriptor: 5, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], iocs: [true, false], tag: 1, control: StreamControl.ioce)
        c.write32(HDARegister.intctl, InterruptBits.global | 1 << 5)
        c.run(5)
        let done = c.advance(frames: 1000, stopAtInterrupt: true)
        #expect(done == 64, "256 bytes at 4 bytes per frame")
        #expect(c.read32(HDARegister.intsts) == 1 << 5 | InterruptBits.global && c.interruptAsserted)
        c.write32(HDARegister.intsts, 0)   // read-only
        #expect(c.read32(HDARegister.intsts) == 1 << 5 | InterruptBits.global)
        c.write8(c.sd(5, HDARegister.SD.sts), StreamStatus.bufferCompletion.rawValue)
        #expect(c.read32(HDARegister.intsts) == 0 && !c.interruptAsserted)
    }

    @Test("A 30-descriptor controller: SSYNC and SIE hold 30 bits, descriptor 29 interrupts on SIS 29 without touching CIS")
    func thirtyDescriptors() throws {
        let gcap = GlobalCapabilities(outputEngines: 15, inputEngines: 15, bidirectionalEngines: 0, sdoLines: 1, supports64Bit: true)
        let p = ControllerProfile(name: "thirty-descriptors", summary: "30 descriptors", gcap: gcap, pciVendor: 0x8086, pciDevice: 0x3,
                                  revision: 0, ssyncOffset: HDARegister.ssyncSpec, crstExitFrames: 1, srstFrames: 1)
        let c = HDAController(profile: p, memory: GuestMemory(pages: 64))
        c.bringUp()
        c.write32(p.ssyncOffset, 0xFFFF_FFFF)
        #expect(c.read32(p.ssyncOffset) == 0x3FFF_FFFF)
        c.write32(HDARegister.intctl, 0xFFFF_FFFF)
        #expect(c.read32(HDARegister.intctl) == 0xFFFF_FFFF)
        _ = try programStream(c, descriptor: 29, format: StreamFormat(rate: 48000, bits: 16, channels: 2),
                              lengths: [256, 256], iocs: [true, true], tag: 1, control: StreamControl.ioce)
        c.run(29)
        c.advance(frames: 100)
        #expect(c.statistics(ofDescriptor: 29).bytesMoved == 0, "held by SSYNC bit 29")
        c.write32(p.ssyncOffset, 0)
        c.advance(frames: 64)
        #expect(c.read32(HDARegister.intsts) == 1 << 29 | InterruptBits.global && c.interruptAsserted)
        #expect(c.checkInvariants() == [])
    }
}
