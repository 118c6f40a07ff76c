import HDAController
import HDAudio

/// A codec that records every output packet by tag and generates input from a counter.
final class TestCodec: LinkCodec {
    /// Bytes received per tag, concatenated.
    var received: [UInt8: [UInt8]] = [:]
    /// Blocks received per tag.
    var receivedBlocks: [UInt8: Int] = [:]
    /// (tag, frame, blocks) of every receive call.
    var calls: [(tag: UInt8, frame: UInt64, blocks: Int)] = []
    /// Tags this codec transmits on its SDI line.
    var transmitTags: Set<UInt8>
    /// The next byte value generated per tag.
    var nextByte: [UInt8: UInt8] = [:]
    /// Bytes sent per tag.
    var sent: [UInt8: [UInt8]] = [:]
    var resets = 0
    var seed: UInt8

    init(transmitTags: Set<UInt8> = [], seed: UInt8 = 1) {
        self.transmitTags = transmitTags
        self.seed = seed
    }

    func linkReceive(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int, data: UnsafeRawBufferPointer) {
        received[tag, default: []].append(contentsOf: data)
        receivedBlocks[tag, default: 0] += blocks
        calls.append((tag, frame, blocks))
    }

    func linkTransmit(tag: UInt8, format: ConverterFormat, frame: UInt64, blocks: Int,
                      into data: UnsafeMutableRawBufferPointer) -> Bool {
        guard transmitTags.contains(tag) else { return false }
        var value = nextByte[tag] ?? seed
        for i in 0..<data.count {
            data[i] = value
            value = value &* 31 &+ 7
        }
        nextByte[tag] = value
        sent[tag, default: []].append(contentsOf: data)
        calls.append((tag, frame, blocks))
        return true
    }

    func linkCommand(_ verb: UInt32) -> UInt32? { verb ^ 0xABCD_0000 }
    func linkReset() { resets += 1 }
}

/// A deterministic generator (SplitMix64) for seeded random tests.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
