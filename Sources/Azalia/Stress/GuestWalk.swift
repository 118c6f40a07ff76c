import HDAController
import HDACodec
import HDAudio

/// The hostile guest: drives a bare controller as a guest OS could, with no bus driver.
struct GuestWalk {
    var rng: StressRandom
    init(seed: UInt64) { rng = StressRandom(seed: seed) }
    init(input: [UInt8]) { rng = StressRandom(input: input) }

    /// A controller with a codec and a little guest memory.
    mutating func makeController() -> HDAController {
        let controller = HDAController(profile: rng.pick(ControllerProfile.all), memory: GuestMemory(pages: 16))
        controller.attach(VirtualCodec(address: 0), at: 0)
        return controller
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
        var c = makeController()
        for step in 0..<steps {
            if rng.exhausted { break }
            if step % 4096 == 4095 { c = makeController(); counts["new controller", default: 0] += 1 }
            let pages = c.memory.freePages + c.memory.allocatedPages
            switch rng.below(100) {
            case 0..<55:
                let o = offset(), v = rng.next()
                switch rng.below(3) {
                case 0: c.write8(o, UInt8(truncatingIfNeeded: v))
                case 1: c.write16(o, UInt16(truncatingIfNeeded: v))
                default: c.write32(o, UInt32(truncatingIfNeeded: rng.oneIn(2) ? v : rng.edgy(max: UInt64(UInt32.max))))
                }
                counts["register write", default: 0] += 1
            case 55..<65:
                let o = offset()
                _ = rng.oneIn(2) ? UInt32(c.read8(o)) : c.read32(o)
                counts["register read", default: 0] += 1
            case 65..<78:
                // A hostile BDL: entries anywhere, of any length, then a descriptor pointed at
                // it with any CBL and LVI, and RUN set.
                let table = address(c.memory)
                var bytes: [UInt8] = []
                for _ in 0..<(1 + rng.below(8)) {
                    bytes += BDLEntry(address: address(c.memory), length: UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max))),
                                      interruptOnCompletion: rng.oneIn(2)).bytes
                }
                _ = try? c.memory.write(GuestAddress(table), bytes: bytes)
                let sd = HDARegister.streamDescriptor(rng.below(EngineLayout(c.profile.gcap).count))
                c.write32(sd + HDARegister.SD.bdpl, UInt32(truncatingIfNeeded: table))
                c.write32(sd + HDARegister.SD.bdpu, UInt32(truncatingIfNeeded: table >> 32))
                c.write32(sd + HDARegister.SD.cbl, UInt32(truncatingIfNeeded: rng.edgy(max: UInt64(UInt32.max))))
                c.write16(sd + HDARegister.SD.lvi, UInt16(truncatingIfNeeded: rng.next()))
                c.write16(sd + HDARegister.SD.fmt, UInt16(truncatingIfNeeded: rng.next()))
                c.write8(sd, UInt8(truncatingIfNeeded: rng.next()) | 0x02)
                counts["hostile BDL", default: 0] += 1
            case 78..<95:
                let frames = rng.oneIn(40) ? UInt64(1 + rng.below(1 << 18)) : UInt64(rng.below(600))
                let before = c.frame
                c.advance(frames: frames)
                guard c.frame == before &+ frames else {
                    throw StressViolation(step: step, message: "advance(\(frames)) moved \(c.frame &- before) frames")
                }
                counts["advance", default: 0] += 1
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
                counts["faults", default: 0] += 1
            default:
                let bytes = (0..<rng.below(64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                _ = try? c.memory.write(GuestAddress(address(c.memory)), bytes: bytes)
                counts["memory write", default: 0] += 1
            }
            let problems = c.checkInvariants()
            guard problems.isEmpty else { throw StressViolation(step: step, message: problems.joined(separator: "; ")) }
            guard c.memory.freePages + c.memory.allocatedPages == pages else {
                throw StressViolation(step: step, message: "guest memory changed size")
            }
            if step % 1024 == 0 { progress?(step) }
        }
        progress?(steps)
    }
}
