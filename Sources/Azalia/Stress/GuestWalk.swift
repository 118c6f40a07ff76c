import HDAController
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HDACodec
import HDAudio

/// The hostile guest: drives a bare controller as a guest OS could, with no bus driver.
/// Every step also goes to a twin controller whose link time moves one frame at a time
/// (the first 4,096 frames of an advance; the rest in one call), and after every advance the
/// two must agree on every register, every byte of guest memory and the interrupt line:
/// batching must not be visible, whatever the guest does.
struct GuestWalk {
    var rng: StressRandom
    init(seed: UInt64) { rng = StressRandom(seed: seed) }
    init(input: [UInt8]) { rng = StressRandom(input: input) }

    /// Two identical controllers (the walk's and its stepped twin), each with a codec whose
    /// first ADC records a tone and whose first DAC plays into a checksum, and a little guest
    /// memory. (Not a `Loopback`: a FIFO between DAC and ADC hands the ADC whatever the DAC has
    /// played by the time it is asked, which depends on how time is batched; see `Loopback`.)
    mutating func makeControllers() -> (HDAController, HDAController, [VirtualCodec], [ChecksumSink]) {
        let profile = rng.pick(ControllerProfile.all)
        var codecs: [VirtualCodec] = [], sinks: [ChecksumSink] = []
        func make() -> HDAController {
            let controller = HDAController(profile: profile, memory: GuestMemory(pages: 16))
            let codec = VirtualCodec(address: 0)
            let sink = ChecksumSink()
            codec.setSink(sink, dac: 0)
            codec.setSource(ToneGenerator(frequency: 997, amplitude: 0.5), adc: 0)
            controller.attach(codec, at: 0)
            codecs.append(codec)
            sinks.append(sink)
            return controller
        }
        return (make(), make(), codecs, sinks)
    }

    /// What a DAC played, folded into a count and a checksum.
    final class ChecksumSink: SampleSink {
        private(set) var blocks = 0
        private(set) var sum: UInt64 = 0xCBF2_9CE4_8422_2325
        func consume(_ data: UnsafeRawBufferPointer, blocks: Int, format: StreamFormat) {
            self.blocks += blocks
            for byte in data { sum = (sum ^ UInt64(byte)) &* 0x100_0000_01B3 }
        }
    }

    /// A BDL a driver could have written, for a descriptor of `format`: 2 to 6 entries of
    /// whole 128-byte units anywhere in guest RAM (so engines' buffers, BDLs and the
    /// position buffer often overlap), and a CBL of whole blocks within their total.
    mutating func plausibleBDL(_ memory: GuestMemory, blockBytes: Int) -> (table: UInt64, bytes: [UInt8], cbl: UInt32, lvi: UInt16) {
        let units = Int(memory.sizeInBytes) / 128
        let table = memory.base.rawValue + UInt64(rng.below(units - 1)) * 128
        var bytes: [UInt8] = [], total = 0
        let count = 2 + rng.below(5)
        for _ in 0..<count {
            let length = 128 * (1 + rng.below(24))
            let start = rng.below(units - length / 128 + 1)
            bytes += BDLEntry(address: memory.base.rawValue + UInt64(start) * 128, length: UInt32(length),
                              interruptOnCompletion: rng.oneIn(2)).bytes
            total += length
        }
        let blocks = total / blockBytes
        let cbl = blockBytes * (blocks <= 1 ? 1 : 1 + rng.below(blocks))
        return (table, bytes, UInt32(cbl), UInt16(count - 1))
    }

    /// Writes a BDL's bytes at `table` and points descriptor `sd` at it with its CBL, LVI and
    /// format (SDnCTL is left to the caller).
    static func program(_ x: HDAController, _ sd: UInt32, table: UInt64, bytes: [UInt8], cbl: UInt32, lvi: UInt16, fmt: UInt16) {
        _ = try? x.memory.write(GuestAddress(table), bytes: bytes)
        x.write32(sd + HDARegister.SD.bdpl, UInt32(truncatingIfNeeded: table))
        x.write32(sd + HDARegister.SD.bdpu, UInt32(truncatingIfNeeded: table >> 32))
        x.write32(sd + HDARegister.SD.cbl, cbl)
        x.write16(sd + HDARegister.SD.lvi, lvi)
        x.write16(sd + HDARegister.SD.fmt, fmt)
    }

    /// Frames the twin steps one at a time in each advance (it moves the rest in one call).
    static let steppedFrames: UInt64 = 4096

    /// What differs between the walk's controller and its twin (nil when nothing does).
    static func difference(_ a: HDAController, _ b: HDAController) -> String? {
        guard a.frame == b.frame else { return "frame \(a.frame) against \(b.frame)" }
        guard a.interruptAsserted == b.interruptAsserted else { return "the interrupt line differs" }
        let top = HDARegister.streamDescriptor(EngineLayout(a.profile.gcap).count)
        for base in [UInt32(0), HDARegister.aliasBase] {
            for offset in stride(from: base, to: base + top, by: 4) where a.read32(offset) != b.read32(offset) {
                return String(format: "register 0x%X reads 0x%08X batched, 0x%08X stepped", offset, a.read32(offset), b.read32(offset))
            }
        }
        let size = a.memory.sizeInBytes
        guard let x = a.memory.hostPointer(a.memory.base, length: size), let y = b.memory.hostPointer(b.memory.base, length: size)
        else { return "guest memory unreadable" }
        guard memcmp(x, y, Int(size)) != 0 else { return nil }
        var i = 0
        while x.load(fromByteOffset: i, as: UInt8.self) == y.load(fromByteOffset: i, as: UInt8.self) { i += 1 }
        return String(format: "guest memory at +0x%X holds 0x%02X batched, 0x%02X stepped", i,
                      x.load(fromByteOffset: i, as: UInt8.self), y.load(fromByteOffset: i, as: UInt8.self))
    }

    /// A register offset: mostly the global and descriptor registers and the aliases,
    /// sometimes anywhere.
    mutating func offset() -> UInt32 {
        switch rng.below(8) {
        case 0: return UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max)))
        case 1: return 0x2000 + UInt32(rng.below(0x200))
        default: return UInt32(rng.below(0x80 + 0x20 * 30))
        }
    }

    /// A guest address: mostly in guest RAM, sometimes just outside it or anywhere.
    mutating func address(_ memory: GuestMemory) -> UInt64 {
        let base = GuestMemory.defaultBase.rawValue
        switch rng.below(6) {
        case 0: return rng.edgy(max: .max)
        case 1: return base &+ memory.sizeInBytes &- UInt64(rng.below(64))
        default: return base + UInt64(rng.below(Int(memory.sizeInBytes))) & ~UInt64(rng.oneIn(2) ? 0x7F : 0)
        }
    }

    mutating func run(steps: Int, counts: inout [String: Int], progress: ((Int) -> Void)?) throws(StressViolation) {
        var (c, twin, codecs, sinks) = makeControllers()
        for step in 0..<steps {
            if rng.exhausted { break }
            if step % 4096 == 4095 { (c, twin, codecs, sinks) = makeControllers(); counts["new controller", default: 0] += 1 }
            let pages = c.memory.freePages + c.memory.allocatedPages
            switch rng.below(100) {
            case 0..<55:
                let o = offset(), v = rng.next()
                switch rng.below(3) {
                case 0: for x in [c, twin] { x.write8(o, UInt8(truncatingIfNeeded: v)) }
                case 1: for x in [c, twin] { x.write16(o, UInt16(truncatingIfNeeded: v)) }
                default:
                    let value = UInt32(truncatingIfNeeded: rng.oneIn(2) ? v : rng.edgy(max: UInt64(UInt32.max)))
                    for x in [c, twin] { x.write32(o, value) }
                }
                counts["register write", default: 0] += 1
            case 55..<65:
                let o = offset()
                if rng.oneIn(2) {
                    guard c.read8(o) == twin.read8(o) else { throw StressViolation(step: step, message: "batched and stepped read differently at 0x\(String(o, radix: 16))") }
                } else {
                    guard c.read32(o) == twin.read32(o) else { throw StressViolation(step: step, message: "batched and stepped read differently at 0x\(String(o, radix: 16))") }
                }
                counts["register read", default: 0] += 1
            case 65..<78 where rng.oneIn(2):
                // A plausible stream on a random descriptor: the controller out of reset, a
                // well-formed BDL anywhere in RAM, a legal format, RUN; sometimes the position
                // buffer somewhere in RAM, and the codec's first DAC and ADC on its tag.
                let n = rng.below(EngineLayout(c.profile.gcap).count), sd = HDARegister.streamDescriptor(n)
                let format = StreamFormat(rate: rng.pick(RateEncoding.allRates), bits: rng.pick(StreamFormat.legalSampleBits),
                                          channels: UInt16(1 + rng.below(8)))
                guard let converter = try? ConverterFormat(format) else { break }
                let bdl = plausibleBDL(c.memory, blockBytes: format.blockBytes)
                let tag = UInt8(1 + rng.below(15))
                let ctl = UInt32(tag) << 20 | (rng.oneIn(2) ? StreamControl.dir : 0) | StreamControl.ioce
                let dpl = rng.oneIn(4) ? UInt32(truncatingIfNeeded: c.memory.base.rawValue) + UInt32(rng.below(Int(c.memory.sizeInBytes) / 128 - 1)) * 128 | 1 : nil
                // The converters' verbs: straight to the codec now, or queued in a CORB (with its
                // RIRB) somewhere in RAM, to go out one a frame while streams run.
                let route = rng.below(3)
                let units = Int(c.memory.sizeInBytes) / 128
                let corb = c.memory.base.rawValue + UInt64(rng.below(units - 8)) * 128
                let rirb = c.memory.base.rawValue + UInt64(rng.below(units - 16)) * 128
                var verbs: [UInt32] = []
                for _ in 0..<(1 + rng.below(6)) {
                    let node = rng.oneIn(2) ? codecs[0].dacNodes[0] : codecs[0].adcNodes[0]
                    verbs.append(rng.oneIn(2) ? CodecVerb.setFormat(codec: 0, node: node, converter).rawValue
                                              : CodecVerb.setStream(codec: 0, node: node, tag: rng.oneIn(4) ? 0 : tag).rawValue)
                }
                for (x, codec) in zip([c, twin], codecs) {
                    if route == 2 {
                        if x.read8(HDARegister.corbctl) & CorbControl.run == 0 {
                            x.write32(HDARegister.corblbase, UInt32(truncatingIfNeeded: corb))
                            x.write32(HDARegister.corbubase, UInt32(truncatingIfNeeded: corb >> 32))
                            x.write8(HDARegister.corbsize, RingSize.twoHundredFiftySix.rawValue)
                            x.write32(HDARegister.rirblbase, UInt32(truncatingIfNeeded: rirb))
                            x.write32(HDARegister.rirbubase, UInt32(truncatingIfNeeded: rirb >> 32))
                            x.write8(HDARegister.rirbsize, RingSize.twoHundredFiftySix.rawValue)
                            x.write8(HDARegister.rirbctl, RirbControl.dmaEnable)
                            x.write8(HDARegister.corbctl, CorbControl.run)
                        }
                        let base = UInt64(x.read32(HDARegister.corbubase)) << 32 | UInt64(x.read32(HDARegister.corblbase))
                        let entries = UInt16(RingSize.entries(x.read8(HDARegister.corbsize)))
                        var wp = x.read16(HDARegister.corbwp) & 0xFF
                        for verb in verbs {
                            wp = (wp + 1) % entries
                            _ = try? x.memory.write(GuestAddress(base &+ UInt64(wp) * 4), bytes: withUnsafeBytes(of: verb.littleEndian) { Array($0) })
                        }
                        x.write16(HDARegister.corbwp, wp)
                    }
                    if x.read32(HDARegister.gctl) & GlobalControl.crst == 0 { x.write32(HDARegister.gctl, GlobalControl.crst) }
                    Self.program(x, sd, table: bdl.table, bytes: bdl.bytes, cbl: bdl.cbl, lvi: bdl.lvi, fmt: converter.rawValue)
                    if let dpl { x.write32(HDARegister.dplbase, dpl) }
                    if route == 1 {
                        for node in [codec.dacNodes[0], codec.adcNodes[0]] {
                            _ = codec.linkCommand(CodecVerb.setFormat(codec: 0, node: node, converter).rawValue)
                            _ = codec.linkCommand(CodecVerb.setStream(codec: 0, node: node, tag: tag).rawValue)
                        }
                    }
                    x.write32(sd + HDARegister.SD.ctl, ctl | StreamControl.run)
                }
                counts["plausible stream", default: 0] += 1
            case 65..<78:
                // A hostile BDL: entries anywhere, of any length, then a descriptor pointed at
                // it with any CBL and LVI, and RUN set.
                let table = address(c.memory)
                var bytes: [UInt8] = []
                for _ in 0..<(1 + rng.below(8)) {
                    bytes += BDLEntry(address: address(c.memory), length: UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max))),
                                      interruptOnCompletion: rng.oneIn(2)).bytes
                }
                let sd = HDARegister.streamDescriptor(rng.below(EngineLayout(c.profile.gcap).count))
                let cbl = UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max)))
                let lvi = UInt16(truncatingIfNeeded: rng.next()), fmt = UInt16(truncatingIfNeeded: rng.next())
                let ctl = UInt8(truncatingIfNeeded: rng.next()) | 0x02
                for x in [c, twin] {
                    Self.program(x, sd, table: table, bytes: bytes, cbl: cbl, lvi: lvi, fmt: fmt)
                    x.write8(sd, ctl)
                }
                counts["hostile BDL", default: 0] += 1
            case 78..<95:
                let frames = rng.oneIn(40) ? UInt64(1 + rng.below(1 << 14)) : UInt64(rng.below(600))
                let before = c.frame, moved = c.totalBytesMoved
                c.advance(frames: frames)
                guard c.frame == before &+ frames else {
                    throw StressViolation(step: step, message: "advance(\(frames)) moved \(c.frame &- before) frames")
                }
                let stepped = min(frames, Self.steppedFrames)
                for _ in 0..<stepped { twin.advance(frames: 1) }
                twin.advance(frames: frames - stepped)
                if sinks[0].blocks != sinks[1].blocks || sinks[0].sum != sinks[1].sum {
                    throw StressViolation(step: step, message: "after advance(\(frames)), the DAC played \(sinks[0].blocks) blocks batched, \(sinks[1].blocks) stepped, or other samples")
                }
                if let difference = Self.difference(c, twin) {
                    throw StressViolation(step: step, message: "after advance(\(frames)), batched and stepped differ: \(difference)")
                }
                counts["advance", default: 0] += 1
                if c.totalBytesMoved != moved { counts["advance moving samples", default: 0] += 1 }
            case 95..<98:
                var f = FaultInjection()
                let n = EngineLayout(c.profile.gcap).count
                for _ in 0..<rng.below(3) {
                    switch rng.below(5) {
                    case 0: f.srstNeverLatches.insert(rng.below(n))
                    case 1: f.srstNeverClears.insert(rng.below(n))
                    case 2: f.fifoErrors.insert(rng.below(n))
                    case 3: f.fifoNeverReady.insert(rng.below(n))
                    default: f.runNeverClears.insert(rng.below(n))
                    }
                }
                if rng.oneIn(8) { f.crstNeverCompletes = true }
                c.faults = f
                twin.faults = f
                counts["faults", default: 0] += 1
            default:
                let bytes = (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let at = GuestAddress(address(c.memory))
                for x in [c, twin] { _ = try? x.memory.write(at, bytes: bytes) }
                counts["memory write", default: 0] += 1
            }
            let problems = c.checkInvariants() + twin.checkInvariants().map { "stepped twin: \($0)" }
            guard problems.isEmpty else { throw StressViolation(step: step, message: problems.joined(separator: "; ")) }
            guard c.memory.freePages + c.memory.allocatedPages == pages else {
                throw StressViolation(step: step, message: "guest memory changed size")
            }
            if step % 1024 == 0 { progress?(step) }
        }
        progress?(steps)
    }
}
