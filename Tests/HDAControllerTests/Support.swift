import HDAController
import HDAudio
import Testing

extension HDAController {
    /// Leaves reset and waits for the codecs to wake.
    func bringUp() {
        write32(HDARegister.gctl, GlobalControl.crst)
        advance(frames: profile.crstExitFrames + UInt64(LinkTiming.codecWakeFrames))
    }

    /// Offset of a register of descriptor `n`.
    func sd(_ n: Int, _ reg: UInt32) -> UInt32 { HDARegister.streamDescriptor(n) + reg }
}

/// Test profiles by name, for parameterised tests.
let profileNames = ControllerProfile.all.map(\.name)
func profile(_ name: String) -> ControllerProfile { ControllerProfile.named(name)! }

/// One stream programmed into a descriptor: its BDL and buffers in guest memory.
struct ProgrammedStream {
    var descriptor: Int
    var format: StreamFormat
    var converter: ConverterFormat
    var entries: [(address: GuestAddress, length: UInt32, ioc: Bool)]
    var cbl: UInt32
    var tag: UInt8
    var bdl: GuestAddress

    /// Bytes of one sample block in memory.
    var blockBytes: Int { format.blockBytes }

    /// The cyclic buffer's bytes in order (entries concatenated, cut at CBL).
    func logicalBuffer(_ memory: GuestMemory) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for e in entries { bytes += try memory.read(e.address, count: Int(e.length)) }
        return Array(bytes.prefix(Int(cbl)))
    }

    /// Guest address of logical buffer offset `offset`.
    func address(ofOffset offset: Int) -> GuestAddress {
        var remaining = offset
        for e in entries {
            if remaining < Int(e.length) { return e.address.adding(UInt64(remaining))! }
            remaining -= Int(e.length)
        }
        fatalError("offset beyond the BDL")
    }
}

/// Programs descriptor `n` with a BDL of entries of the given lengths (each buffer in its
/// own pages, filled with a pattern) and CBL; CTL gets the tag and `control` bits (no RUN).
func programStream(_ c: HDAController, descriptor n: Int, format: StreamFormat, lengths: [UInt32], iocs: [Bool]? = nil,
                   cbl: UInt32? = nil, tag: UInt8, control: UInt32 = 0, pattern: UInt8 = 0) throws -> ProgrammedStream {
    let memory = c.memory
    let bdlPage = try memory.allocate(pages: 1, contiguous: true)[0]
    var entries: [(address: GuestAddress, length: UInt32, ioc: Bool)] = []
    for (i, length) in lengths.enumerated() {
        let pages = (Int(length) + 4095) / 4096
        let address = try memory.allocate(pages: pages, contiguous: true)[0]
        var fill = [UInt8](repeating: 0, count: Int(length))
        for j in fill.indices { fill[j] = UInt8(truncatingIfNeeded: j &* 7 &+ i &* 13 &+ Int(pattern) &* 101 &+ 1) }
        try memory.write(address, bytes: fill)
        let ioc = iocs?[i] ?? false
        entries.append((address, length, ioc))
        try memory.write(bdlPage.adding(UInt64(16 * i))!,
                         bytes: BDLEntry(address: address.rawValue, length: length, interruptOnCompletion: ioc).bytes)
    }
    let converter = try ConverterFormat(format)
    let total = lengths.reduce(0, +)
    let length = cbl ?? (total - total % UInt32(format.blockBytes))
    c.write32(c.sd(n, HDARegister.SD.cbl), length)
    c.write16(c.sd(n, HDARegister.SD.lvi), UInt16(lengths.count - 1))
    c.write16(c.sd(n, HDARegister.SD.fmt), converter.rawValue)
    c.write32(c.sd(n, HDARegister.SD.bdpl), bdlPage.low32)
    c.write32(c.sd(n, HDARegister.SD.bdpu), bdlPage.high32)
    c.write32(c.sd(n, HDARegister.SD.ctl), UInt32(tag) << 20 | control)
    return ProgrammedStream(descriptor: n, format: format, converter: converter, entries: entries, cbl: length,
                            tag: tag, bdl: bdlPage)
}

extension HDAController {
    /// Sets RUN on descriptor `n`, keeping its other CTL bits.
    func run(_ n: Int) { write32(sd(n, HDARegister.SD.ctl), StreamControl(rawValue: read32(sd(n, HDARegister.SD.ctl))).rawValue | StreamControl.run) }
    /// Clears RUN.
    func stop(_ n: Int) { write32(sd(n, HDARegister.SD.ctl), StreamControl(rawValue: read32(sd(n, HDARegister.SD.ctl))).rawValue & ~StreamControl.run) }
    /// SDnSTS.
    func status(_ n: Int) -> StreamStatus { StreamStatus(rawValue: read8(sd(n, HDARegister.SD.sts))) }
    /// SDnLPIB.
    func lpib(_ n: Int) -> UInt32 { read32(sd(n, HDARegister.SD.lpib)) }
}

/// Blocks a stream of `format` carries in its first `frames` frames (from the vocabulary's cadence).
func blocks(_ format: StreamFormat, frames: UInt64) -> UInt64 {
    try! LinkCadence(format).blocks(before: frames)
}

/// Sets up CORB and RIRB (16 entries) on a controller that is already out of reset.
func setUpRings(_ c: HDAController, rintcnt: UInt16 = 1) throws -> (corb: GuestAddress, rirb: GuestAddress) {
    let corb = try c.memory.allocate(pages: 1, contiguous: true)[0]
    let rirb = try c.memory.allocate(pages: 1, contiguous: true)[0]
    c.write32(HDARegister.corblbase, corb.low32)
    c.write32(HDARegister.corbubase, corb.high32)
    c.write8(HDARegister.corbsize, RingSize.sixteen.rawValue)
    c.write16(HDARegister.corbrp, CorbReadPointer.reset)
    c.write16(HDARegister.corbrp, 0)
    c.write32(HDARegister.rirblbase, rirb.low32)
    c.write32(HDARegister.rirbubase, rirb.high32)
    c.write8(HDARegister.rirbsize, RingSize.sixteen.rawValue)
    c.write16(HDARegister.rirbwp, RirbWritePointer.reset)
    c.write16(HDARegister.rintcnt, rintcnt)
    c.write8(HDARegister.rirbctl, RirbControl.writable)
    c.write8(HDARegister.corbctl, CorbControl.run)
    return (corb, rirb)
}

/// A controller brought up, with one stereo 16-bit output stream programmed on descriptor 4.
func controllerWithStream(pages: Int = 64) throws -> (HDAController, ProgrammedStream) {
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
